"""Pure ASGI middleware feeding the gateway's metrics from what each request actually sent.

Status, route template, error type, time to the first ``content_block_delta`` and streams in flight are all read
off the ASGI messages, so routes stay free of bookkeeping. Per request: one small object and a few dict lookups.
"""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api_gateway.metrics import GatewayMetrics, gateway_metrics
from switchboard.common.errors import error_type_for_status

__all__ = ["METRICS_PATH", "MetricsMiddleware"]

METRICS_PATH = "/metrics"
UNMATCHED_ROUTE = "unmatched"
"""The route label of paths no route matched (404s for arbitrary paths would be unbounded)."""
ERROR_TYPES = frozenset({
    "invalid_request_error", "authentication_error", "billing_error", "permission_error", "not_found_error",
    "request_too_large", "rate_limit_error", "timeout_error", "api_error", "overloaded_error",
})  # fmt: skip
"""Anthropic's error types; anything else a provider invents is counted by its HTTP status instead."""
_ERROR_BODY_LIMIT = 65536
_CLIENT_CLOSED = 499
_SSE = b"text/event-stream"
_DELTA = b"content_block_delta"
_ERROR_EVENT = b"event: error"
_FRAMED_ERROR_EVENT = b"\n" + _ERROR_EVENT


class _Exchange:
    __slots__ = ("error_body", "error_type", "first_token", "model", "route", "started", "status", "streaming")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.status: int | None = None
        self.streaming = False
        self.first_token = False
        self.route = UNMATCHED_ROUTE
        self.model = ""
        self.error_body: bytearray | None = None
        self.error_type: str | None = None


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: GatewayMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics or gateway_metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        exchange = _Exchange()

        async def observing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._started(scope, exchange, message)
            await send(message)
            if message["type"] == "http.response.body" and (exchange.streaming or exchange.error_body is not None):
                self._body(exchange, message.get("body", b""))

        try:
            await self.app(scope, receive, observing_send)
        finally:
            self._finished(scope, exchange)

    def _started(self, scope: Scope, exchange: _Exchange, message: Message) -> None:
        status: int = message["status"]
        exchange.status = status
        exchange.route = _route_of(scope)
        model = scope.get("state", {}).get("model")
        exchange.model = self.metrics.models.label(model if isinstance(model, str) else None, routed=status != 404)
        if status >= 400 and status != _CLIENT_CLOSED:
            exchange.error_body = bytearray()
        elif status == 200 and _is_event_stream(message):
            exchange.streaming = True
            self.metrics.inflight_streams.inc()

    def _body(self, exchange: _Exchange, chunk: bytes) -> None:
        if exchange.error_body is not None:
            exchange.error_body += chunk[: _ERROR_BODY_LIMIT - len(exchange.error_body)]
            return
        if not exchange.first_token and _DELTA in chunk:
            exchange.first_token = True
            self.metrics.first_token(exchange.route, exchange.model, time.perf_counter() - exchange.started)
        # The relay's own error events, or a provider's passed on verbatim; a real newline before it (JSON escapes
        # those) tells the framing from a model that merely wrote the words.
        if chunk.startswith(_ERROR_EVENT) or _FRAMED_ERROR_EVENT in chunk:
            self.metrics.error(exchange.route, _event_error_type(chunk))

    def _finished(self, scope: Scope, exchange: _Exchange) -> None:
        if exchange.streaming:
            self.metrics.inflight_streams.dec()
        if exchange.status is None:  # an exception escaped: the server answers 500 outside this middleware
            exchange.route = _route_of(scope)
            exchange.status, exchange.error_body = 500, bytearray()
        if exchange.error_body is not None:
            self.metrics.error(exchange.route, _body_error_type(bytes(exchange.error_body), exchange.status))
        self.metrics.request_done(
            exchange.route, exchange.model, exchange.status, time.perf_counter() - exchange.started
        )


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


def _is_event_stream(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name == b"content-type":
            return bool(value.startswith(_SSE))
    return False


def _body_error_type(body: bytes, status: int) -> str:
    try:
        error = json.loads(body).get("error", {})
        error_type = error.get("type") if isinstance(error, dict) else None
    except (ValueError, AttributeError):
        error_type = None
    return error_type if isinstance(error_type, str) and error_type in ERROR_TYPES else error_type_for_status(status)


def _event_error_type(chunk: bytes) -> str:
    """The ``error.type`` of an SSE ``error`` event (``event: error\\ndata: {...}``)."""
    _, _, event = chunk.partition(_ERROR_EVENT)
    _, _, data = event.partition(b"data: ")
    return _body_error_type(data.split(b"\n", 1)[0], 500)
