"""ASGI middleware giving every HTTP request a ``req_…`` id, echoed in the ``request-id`` response header.

The id is bound to the logs of the request (for a WebSocket, of the whole connection). The server span is
FastAPI's own, which continues the connector's W3C ``traceparent`` when it sends one.
"""

from __future__ import annotations

from fastapi.telemetry import TelemetryConfig
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.common.ids import new_request_id
from switchboard.common.logs import request_scope

__all__ = ["FASTAPI_TELEMETRY", "RequestIdMiddleware", "request_id_of"]

FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": True, "operation_spans": False, "metrics": False, "logs": False}
"""FastAPI's server span only: metrics are Prometheus' (``/metrics``), logs the stdlib's (JSON lines)."""


class RequestIdMiddleware:
    """Pure ASGI (not ``BaseHTTPMiddleware``): long polls and WebSockets pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        with request_scope(request_id):
            await self.app(scope, receive, send_with_id)


def request_id_of(connection: HTTPConnection) -> str:
    request_id: str = connection.state.request_id
    return request_id
