"""Provider failures become Anthropic error bodies: upstream bodies passed on, transport errors mapped once."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from switchboard.common.errors import (
    ApiError,
    GatewayTimeoutError,
    SwitchboardError,
    UpstreamUnavailableError,
)
from switchboard.orchestrator.upstream_errors import transport_failure, upstream_error_body


def test_anthropic_shaped_body_passes_with_our_request_id() -> None:
    upstream = {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "slow down", "details": {"error_code": "x"}},
        "request_id": "req_upstream",
    }
    data, error_type = upstream_error_body(429, json.dumps(upstream).encode(), "req_ours", "anthropic")
    assert error_type == "rate_limit_error"
    assert json.loads(data) == {**upstream, "request_id": "req_ours"}


@pytest.mark.parametrize(
    ("status", "body", "error_type"),
    [
        (502, b"<html>Bad Gateway</html>", "api_error"),
        (404, b'{"detail":"Not Found"}', "not_found_error"),
        (418, b"", "invalid_request_error"),
        (529, b'{"type":"error","error":"overloaded"}', "overloaded_error"),
    ],
)
def test_other_bodies_get_a_built_error(status: int, body: bytes, error_type: str) -> None:
    data, reported = upstream_error_body(status, body, "req_ours", "primary")
    assert reported == error_type
    assert json.loads(data) == {
        "type": "error",
        "error": {"type": error_type, "message": f"upstream provider primary returned HTTP {status}"},
        "request_id": "req_ours",
    }


_KEY = ConnectionKey("upstream.test", 443, True, True, None, None, None, None)
_SECRET_URL = "https://user:secret@upstream.test/v1/messages"


@pytest.mark.parametrize(
    ("exc", "expected", "status"),
    [
        (aiohttp.ClientConnectorError(_KEY, ConnectionRefusedError(111, "refused")), UpstreamUnavailableError, 502),
        # Connecting and waiting for a pooled connection (sized above the in-flight limit) share this one.
        (aiohttp.ConnectionTimeoutError("slow"), UpstreamUnavailableError, 502),
        (aiohttp.SocketTimeoutError("slow"), GatewayTimeoutError, 504),
        (aiohttp.ServerDisconnectedError(), UpstreamUnavailableError, 502),
        (aiohttp.ClientPayloadError("bad gzip"), UpstreamUnavailableError, 502),
        (aiohttp.InvalidURL(_SECRET_URL), ApiError, 500),
    ],
)
def test_transport_failures(exc: aiohttp.ClientError, expected: type[SwitchboardError], status: int) -> None:
    error = transport_failure("primary", exc)
    assert type(error) is expected
    assert error.status_code == status
    assert "primary" in error.message
    assert "secret" not in error.message
    assert "upstream.test" not in error.message
