"""Provider failures in Anthropic's error shape: transport errors mapped once, HTTP error bodies passed on."""

from __future__ import annotations

import json
from typing import Any

import httpx

from switchboard.common.errors import (
    ApiError,
    GatewayTimeoutError,
    OverloadedError,
    SwitchboardError,
    UpstreamUnavailableError,
    error_body,
    error_type_for_status,
)

__all__ = ["MAX_ERROR_BODY_BYTES", "dump_json", "read_error_body", "transport_failure", "upstream_error_body"]


MAX_ERROR_BODY_BYTES = 1024 * 1024
"""Bytes of an upstream error body kept: providers' are tiny, a misbehaving proxy's page need not be."""


async def read_error_body(response: httpx.Response) -> bytes:
    """The start of a streamed error response, without reading a huge body to its end."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= MAX_ERROR_BODY_BYTES:
            break
    return bytes(body[:MAX_ERROR_BODY_BYTES])


def dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def transport_failure(provider: str, exc: httpx.HTTPError) -> SwitchboardError:
    """The client-facing error for an httpx failure. Names the provider only: never its URL or key."""
    if isinstance(exc, httpx.PoolTimeout):
        return OverloadedError(f"too many concurrent requests to upstream provider {provider}; retry")
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return UpstreamUnavailableError(f"upstream provider unreachable: {provider}")
    if isinstance(exc, httpx.TimeoutException):
        return GatewayTimeoutError(f"upstream provider {provider} timed out")
    if isinstance(exc, httpx.TransportError):
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
