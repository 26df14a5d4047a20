"""The WebSocket link: one connection to ``/api/mcp/ws/{user_id}``, from registration until it drops.

Calls still running when the connection drops are cancelled: their results could not be delivered, and the
broker redelivers them to another connector or answers them with an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from urllib.parse import quote

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from switchboard.cli.connect.broker_http import BrokerHttp
from switchboard.cli.connect.calls import CallRunner, Reply
from switchboard.cli.connect.errors import LinkDroppedError
from switchboard.cli.connect.mcp_bridge import McpBridge
from switchboard.cli.connect.options import ConnectOptions
from switchboard.cli.connect.websocket_frames import (
    AUTH_ERROR_TYPES,
    answer_ping,
    broker_refused,
    closed_error,
    heartbeat,
    receive_json,
    upgrade_refused,
)
from switchboard.common.mcp_protocol import (
    ErrorMessage,
    RegisterTools,
    ToolCallMessage,
    ToolDefinition,
    ToolResult,
    ToolResultMessage,
    ToolsRegistered,
)

__all__ = ["WebSocketLink"]

log = logging.getLogger(__name__)

REGISTER_TIMEOUT = 30.0
MAX_MESSAGE_BYTES = 16 * 2**20


class WebSocketLink:
    def __init__(
        self,
        options: ConnectOptions,
        http: BrokerHttp,
        bridge: McpBridge,
        server_id: str,
        tools: Sequence[ToolDefinition],
    ) -> None:
        self._options = options
        self._http = http
        self._bridge = bridge
        self._server_id = server_id
        self._tools = list(tools)

    async def serve(self, on_registered: Callable[[], None]) -> None:
        """Connect, register and serve calls until the connection drops (:class:`LinkDroppedError`)."""
        user_id = await self._http.user_id()
        uri = self._options.websocket_url(f"/api/mcp/ws/{quote(user_id, safe='')}")
        headers = {"x-api-key": self._options.key}
        try:
            async with connect(
                uri, additional_headers=headers, max_size=MAX_MESSAGE_BYTES, ping_interval=None, open_timeout=20
            ) as websocket:
                registered = await self._register(websocket)
                log.info(
                    "connected to %s as user %s, server %s, %d tools (WebSocket, connection %s)",
                    self._options.display_url,
                    user_id,
                    registered.server_id,
                    len(registered.tools),
                    registered.connection_id,
                )
                on_registered()
                await self._serve(websocket)
        except InvalidStatus as exc:
            raise upgrade_refused(exc) from None
        except ConnectionClosed as exc:
            raise closed_error(exc) from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise LinkDroppedError(f"cannot open the WebSocket: {exc or type(exc).__name__}") from None

    async def aclose(self) -> None:
        """Nothing outlives a connection."""

    async def _register(self, websocket: ClientConnection) -> ToolsRegistered:
        message = RegisterTools(server_id=self._server_id, tools=list(self._tools))
        await websocket.send(message.model_dump_json(by_alias=True))
        try:
            async with asyncio.timeout(REGISTER_TIMEOUT):
                while True:
                    received = await receive_json(websocket)
                    kind = received.get("type")
                    if kind == "tools_registered":
                        return ToolsRegistered.model_validate(received)
                    if kind == "error":
                        raise broker_refused(ErrorMessage.model_validate(received), "the registration")
                    await answer_ping(websocket, kind)
        except TimeoutError:
            raise LinkDroppedError(f"no tools_registered within {REGISTER_TIMEOUT:g} s") from None

    async def _serve(self, websocket: ClientConnection) -> None:
        runner = CallRunner(self._bridge, self._options.max_concurrency)
        pinger = asyncio.create_task(heartbeat(websocket))

        async def reply(call: ToolCallMessage, result: ToolResult) -> None:
            answer = ToolResultMessage(call_id=call.call_id, result=result)
            try:
                await websocket.send(answer.model_dump_json(exclude_none=True))
            except ConnectionClosed:
                raise LinkDroppedError("the WebSocket closed before the result was sent") from None

        try:
            while True:
                received = await receive_json(websocket)
                kind = received.get("type")
                if kind == "tool_call":
                    _start(runner, received, reply)
                elif kind == "error":
                    _refused_message(ErrorMessage.model_validate(received))
                elif kind not in ("ping", "pong"):
                    log.debug("ignoring a %r message", kind)
                await answer_ping(websocket, kind)
        finally:
            pinger.cancel()
            await runner.aclose()
            await asyncio.gather(pinger, return_exceptions=True)


def _start(runner: CallRunner, received: dict[str, object], reply: Reply) -> None:
    try:
        call = ToolCallMessage.model_validate(received)
    except ValidationError as exc:
        log.warning("ignoring a malformed tool_call (%d errors)", exc.error_count())
        return
    runner.start(call, reply)


def _refused_message(error: ErrorMessage) -> None:
    """The broker refused one of our messages: fatal for authentication, else worth a warning only."""
    if error.error.type in AUTH_ERROR_TYPES:
        raise broker_refused(error, "the connection")
    call = f" (call {error.call_id})" if error.call_id else ""
    log.warning("the broker refused a message%s: %s: %s", call, error.error.type, error.error.message)
