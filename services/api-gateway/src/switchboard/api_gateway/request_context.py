"""ASGI middleware giving every request its ``req_…`` id and its access line.

The id is echoed in the ``request-id`` response header and bound to the logs of everything that serves the
request. The server span is FastAPI's own (its native OpenTelemetry support continues the caller's W3C
``traceparent``); this middleware runs inside it, names the request on it, and logs within it, so the access line
carries the trace id the orchestrator, tool-broker and metering lines of the request carry too.
"""

from __future__ import annotations

import logging
import time

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.trace import Span
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.common.ids import new_request_id
from switchboard.common.logs import bind_request_id, unbind_request_id

__all__ = ["FASTAPI_TELEMETRY", "RequestIdMiddleware", "access_log", "request_id_of"]

FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": True, "operation_spans": False, "metrics": False, "logs": False}
"""FastAPI's server span only: metrics are Prometheus' (``/metrics``), logs the stdlib's (JSON lines)."""

access_log = logging.getLogger("switchboard.api_gateway.access")
"""One INFO line per request: method, path, status, duration and model (``SWITCHBOARD_ACCESS_LOG``)."""


class RequestIdMiddleware:
    """Pure ASGI (not ``BaseHTTPMiddleware``) so streaming and disconnect detection stay untouched."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
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
        span = trace.get_current_span()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
                status = message["status"]
                _describe(span, scope)  # FastAPI ends its span with the last body message
            await send(message)

        token = bind_request_id(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                _log_access(scope, status, time.perf_counter() - started)
            unbind_request_id(token)


def _describe(span: Span, scope: Scope) -> None:
    if span.is_recording():
        span.set_attribute("switchboard.request_id", scope["state"]["request_id"])
        model = scope["state"].get("model")
        if isinstance(model, str):
            span.set_attribute("gen_ai.request.model", model)


def _log_access(scope: Scope, status: int, seconds: float) -> None:
    model = scope["state"].get("model")
    if access_log.isEnabledFor(logging.INFO):
        fields = {"method": scope["method"], "path": scope["path"], "status": status}
        fields["duration_ms"] = round(seconds * 1000, 2)
        if isinstance(model, str):
            fields["model"] = model
        access_log.info("%s %s %d", scope["method"], scope["path"], status, extra=fields)


def request_id_of(request: Request) -> str:
    request_id: str = request.state.request_id
    return request_id
