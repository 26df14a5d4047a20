"""ASGI middleware giving every HTTP request a ``req_…`` id, echoed in the ``request-id`` response header."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.common.ids import new_request_id

__all__ = ["RequestIdMiddleware", "request_id_of"]


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

        await self.app(scope, receive, send_with_id)


def request_id_of(connection: HTTPConnection) -> str:
    request_id: str = connection.state.request_id
    return request_id
