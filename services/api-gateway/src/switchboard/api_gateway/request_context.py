"""ASGI middleware giving every request its ``req_…`` id, its server span and (optionally) its access line.

The id is echoed in the ``request-id`` response header and bound to the logs of everything that serves the
request. The span continues the caller's W3C ``traceparent`` (or starts a trace), so the orchestrator, tool-broker
and metering spans and lines of the request join it.

FastAPI's own OpenTelemetry server span is switched off here (``FASTAPI_TELEMETRY``): it cost 50 µs per request
even unsampled, this one 10-18 µs (micro-benchmark in the issue-8 note), on the path every request takes.
"""

from __future__ import annotations

import logging
import time

from fastapi.telemetry import TelemetryConfig
from opentelemetry.trace import Span, SpanKind
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.common.ids import new_request_id
from switchboard.common.logs import bind_request_id, unbind_request_id
from switchboard.common.tracing import context_from_headers, span

__all__ = ["FASTAPI_TELEMETRY", "RequestIdMiddleware", "access_log", "request_id_of"]

FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "operation_spans": False, "metrics": False, "logs": False}
"""Off: the span is this middleware's, metrics are Prometheus' (``/metrics``), logs the stdlib's (JSON lines)."""

access_log = logging.getLogger("switchboard.api_gateway.access")
"""One INFO line per request when ``SWITCHBOARD_ACCESS_LOG`` is on: method, path, status, duration and model."""

_TRACE_HEADERS = (b"traceparent", b"tracestate")


class RequestIdMiddleware:
    """Pure ASGI (not ``BaseHTTPMiddleware``) so streaming and disconnect detection stay untouched."""

    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"request-id", request_id.encode())
        status = 500  # what the server answers when an exception escapes before the response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
                status = message["status"]
            await send(message)

        parent = context_from_headers(_trace_headers(scope))
        name = f"{scope['method']} {scope['path']}"
        with span(name, parent=parent, kind=SpanKind.SERVER) as current:
            token = bind_request_id(request_id)
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                _describe(current, scope, status)
                if self.access_log:
                    _log_access(scope, status, time.perf_counter() - started)
                unbind_request_id(token)


def _trace_headers(scope: Scope) -> dict[str, str] | None:
    found = {name.decode(): value.decode("latin-1") for name, value in scope["headers"] if name in _TRACE_HEADERS}
    return found or None


def _describe(span: Span, scope: Scope, status: int) -> None:
    """Attributes as OpenTelemetry's HTTP conventions name them; the span is named by route template (bounded)."""
    if not span.is_recording():
        return
    route = getattr(scope.get("route"), "path", None)
    if isinstance(route, str):
        span.update_name(f"{scope['method']} {route}")
        span.set_attribute("http.route", route)
    span.set_attributes({
        "http.request.method": scope["method"],
        "http.response.status_code": status,
        "url.path": scope["path"],
        "switchboard.request_id": scope["state"]["request_id"],
    })  # fmt: skip
    model = scope["state"].get("model")
    if isinstance(model, str):
        span.set_attribute("gen_ai.request.model", model)


def _log_access(scope: Scope, status: int, seconds: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    model = scope["state"].get("model")
    if isinstance(model, str):
        fields["model"] = model
    access_log.info("%s %s %d", scope["method"], scope["path"], status, extra=fields)


def request_id_of(request: Request) -> str:
    request_id: str = request.state.request_id
    return request_id
