"""ASGI middleware giving every request a ``req_…`` id, echoed in the ``request-id`` response header."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.common.ids import new_request_id

__all__ = ["RequestIdMiddleware", "request_id_of"]


class RequestIdMiddleware:
    """Pure ASGI (not ``BaseHTTPMiddleware``) so streaming and disconnect detection stay untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_id)


def request_id_of(request: Request) -> str:
    request_id: str = request.state.request_id
    return request_id
