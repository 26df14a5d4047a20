"""``/api/mcp/*`` on the gateway's own port, forwarded to the tool-broker (HTTP and WebSocket).

Connectors use one base URL for everything. In docker-compose Traefik routes ``/api/mcp`` to the tool-broker
directly; where there is no such edge router (``switchboard up``) the gateway does it, when
``SWITCHBOARD_TOOL_BROKER_URL`` is set. The broker authenticates every call itself: nothing is checked here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import httpx
from fastapi import APIRouter, Request, Response, WebSocket
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from switchboard.common.errors import OverloadedError, error_body

__all__ = ["MCP_PREFIX", "tool_broker_router"]

logger = logging.getLogger(__name__)

MCP_PREFIX = "/api/mcp"
_PASSED_REQUEST_HEADERS = ("x-api-key", "authorization", "content-type", "accept", "user-agent")
_PASSED_RESPONSE_HEADERS = ("content-type", "request-id", "retry-after")
_WS_MAX_BYTES = 32 * 1024 * 1024


def tool_broker_router(broker_url: str) -> APIRouter:
    base = broker_url.rstrip("/")
    ws_base = "ws" + base[len("http") :] if base.startswith("http") else base
    router = APIRouter()

    @router.api_route(MCP_PREFIX + "/{path:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
    async def forward(path: str, request: Request) -> Response:
        headers = {name: request.headers[name] for name in _PASSED_REQUEST_HEADERS if name in request.headers}
        url = f"{base}{MCP_PREFIX}/{path}"
        http: httpx.AsyncClient = request.app.state.tool_broker_http
        try:
            answer = await http.request(
                request.method, url, params=request.query_params, content=await request.body(), headers=headers
            )
        except httpx.HTTPError as exc:
            logger.warning("tool-broker at %s unreachable: %s", base, type(exc).__name__)
            raise OverloadedError("The tool-broker is unavailable; try again.") from None
        passed = {name: answer.headers[name] for name in _PASSED_RESPONSE_HEADERS if name in answer.headers}
        return Response(answer.content, status_code=answer.status_code, headers=passed)

    @router.websocket(MCP_PREFIX + "/ws/{user_id}")
    async def bridge(websocket: WebSocket, user_id: str) -> None:
        headers = {
            name: websocket.headers[name] for name in ("x-api-key", "authorization") if name in websocket.headers
        }
        try:
            upstream = await connect(
                f"{ws_base}{MCP_PREFIX}/ws/{user_id}", additional_headers=headers, max_size=_WS_MAX_BYTES,
                ping_interval=None, open_timeout=10,
            )  # fmt: skip
        except InvalidStatus as refused:
            await websocket.send_denial_response(_denial(refused.response.status_code, refused.response.body))
            return
        except (OSError, TimeoutError):
            await websocket.send_denial_response(_unavailable(websocket))
            return
        async with upstream:
            await websocket.accept()
            await _pump(websocket, upstream)

    return router


async def _pump(client: WebSocket, upstream: ClientConnection) -> None:
    """Copy messages both ways until either side closes, then close the other with the same code."""

    async def client_to_upstream() -> tuple[int, str]:
        while True:
            message = await client.receive()
            if message["type"] == "websocket.disconnect":
                return int(message.get("code", 1000)), str(message.get("reason") or "")
            text, data = message.get("text"), message.get("bytes")
            try:
                await upstream.send(text if text is not None else data or b"")
            except ConnectionClosed:
                return upstream.close_code or 1000, upstream.close_reason or ""

    async def upstream_to_client() -> tuple[int, str]:
        try:
            async for message in upstream:
                await client.send_text(message if isinstance(message, str) else message.decode())
        except ConnectionClosed:
            pass
        return upstream.close_code or 1000, upstream.close_reason or ""

    tasks = [asyncio.create_task(client_to_upstream()), asyncio.create_task(upstream_to_client())]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    code, reason = next(iter(done)).result()
    if tasks[0] in done:
        await upstream.close(code if code != 1006 else 1000, reason)
    else:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await client.close(code, reason)


def _denial(status: int, body: bytes | bytearray | None) -> Response:
    return Response(bytes(body or b""), status_code=status, media_type="application/json")


def _unavailable(websocket: WebSocket) -> Response:
    request_id = str(getattr(websocket.state, "request_id", ""))
    error = OverloadedError("The tool-broker is unavailable; try again.")
    body = json.dumps(error_body(error.error_type, error.message, request_id))
    return Response(body, status_code=error.status_code, media_type="application/json")
