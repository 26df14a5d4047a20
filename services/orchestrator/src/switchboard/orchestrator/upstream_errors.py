"""Provider failures in Anthropic's error shape: transport errors mapped once, HTTP error bodies passed on."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from switchboard.common.errors import (
    ApiError,
    GatewayTimeoutError,
    SwitchboardError,
    UpstreamUnavailableError,
    error_body,
    error_type_for_status,
)

__all__ = ["MAX_ERROR_BODY_BYTES", "dump_json", "read_error_body", "transport_failure", "upstream_error_body"]


MAX_ERROR_BODY_BYTES = 1024 * 1024
"""Bytes of an upstream error body kept: providers' are tiny, a misbehaving proxy's page need not be."""


async def read_error_body(response: aiohttp.ClientResponse) -> bytes:
    """The start of an error response, without reading a huge body to its end."""
    body = bytearray()
    while len(body) < MAX_ERROR_BODY_BYTES:
        chunk = await response.content.read(MAX_ERROR_BODY_BYTES - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def transport_failure(provider: str, exc: aiohttp.ClientError) -> SwitchboardError:
    """The client-facing error for an HTTP client failure. Names the provider only: never its URL or key.

    A connection that cannot be had in time (connecting, or waiting for the pool, which is sized above the
    replica's in-flight limit) means the provider is unreachable; silence on an open connection is a timeout.
    """
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return UpstreamUnavailableError(f"upstream provider unreachable: {provider}")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return GatewayTimeoutError(f"upstream provider {provider} timed out")
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return UpstreamUnavailableError(f"connection to upstream provider {provider} failed")
    return ApiError(f"request to upstream provider {provider} failed")


def upstream_error_body(status: int, body: bytes, request_id: str, provider: str) -> tuple[str, str]:
    """``(error body JSON, error type)``: the provider's own body when Anthropic-shaped, with our request id."""
    payload = _anthropic_error(body)
    if payload is not None:
        payload["request_id"] = request_id
        return dump_json(payload), str(payload["error"]["type"])
    error_type = error_type_for_status(status)
    message = f"upstream provider {provider} returned HTTP {status}"
    return dump_json(error_body(error_type, message, request_id)), error_type


def _anthropic_error(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("type") != "error":
        return None
    error = payload.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("type"), str):
        return None
    return payload
