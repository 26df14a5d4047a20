"""One connector's WebSocket after it was accepted: reads its messages and answers each, until it closes.

Per message: the rate limit (a token bucket; a connection that keeps going past it is closed with 1008), then
the message itself: ``register_tools``, ``tool_result``, ``ping``/``pong``. A refused message is answered with an
``error`` message and the connection stays open.
"""

from __future__ import annotations

import logging

from nats.errors import Error as NatsError
from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocket

from switchboard.common.mcp_protocol import (
    ConnectorMessage,
    ErrorDetail,
    ErrorMessage,
    PingMessage,
    PongMessage,
    RegisterTools,
    ToolResultMessage,
    ToolsRegistered,
)
from switchboard.tool_broker.connections import Connection
from switchboard.tool_broker.registrations import ServerRecord, mcp_tools
from switchboard.tool_broker.state import BrokerState

__all__ = ["RATE_CLOSE_CODE", "Session"]

logger = logging.getLogger(__name__)

RATE_CLOSE_CODE = 1008
_MESSAGES: TypeAdapter[ConnectorMessage] = TypeAdapter(ConnectorMessage)
_PONG = PongMessage()
_REFUSALS_BEFORE_CLOSE = 2
"""A connection refused this many bursts' worth of messages in a row is closed."""


class Session:
    def __init__(self, connection: Connection, state: BrokerState) -> None:
        self._connection = connection
        self._state = state

    async def run(self, websocket: WebSocket) -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            self._connection.heard()
            if not self._connection.bucket.take():
                await self._over_rate()
                continue
            raw = message.get("text")
            await self._handle(raw if raw is not None else message.get("bytes") or b"")

    async def _over_rate(self) -> None:
        bucket = self._connection.bucket
        if bucket.refused_in_a_row > _REFUSALS_BEFORE_CLOSE * bucket.burst:
            await self._connection.close(RATE_CLOSE_CODE, "message rate limit exceeded")
        else:
            await self._refuse("rate_limit_error", "Too many messages; this one was dropped. Slow down.")

    async def _handle(self, raw: str | bytes) -> None:
        try:
            message = _MESSAGES.validate_json(raw)
        except ValidationError as exc:
            await self._refuse("invalid_request_error", _describe(exc))
            return
        if isinstance(message, RegisterTools):
            await self._register(message)
        elif isinstance(message, ToolResultMessage):
            await self._result(message)
        elif isinstance(message, PingMessage):
            await self._connection.send(_PONG)

    async def _register(self, message: RegisterTools) -> None:
        state, connection = self._state, self._connection
        limit = state.settings.max_tools_per_server
        if len(message.tools) > limit:
            text = f"tools: {len(message.tools)} tools registered; a server may register at most {limit}."
            await self._refuse("invalid_request_error", text)
            return
        try:
            tools = mcp_tools(message.server_id, message.tools)
            if not message.tools:
                earlier = await state.registrations.get(connection.user_id, message.server_id)
                tools = earlier.tools if earlier is not None else []
            await state.registrations.put(
                ServerRecord(user_id=connection.user_id, server_id=message.server_id, method="websocket", tools=tools)
            )
        except (NatsError, TimeoutError):
            logger.warning("could not store the registration of %s", connection.connection_id, exc_info=True)
            await self._refuse("api_error", "The registration could not be stored; register again.")
            return
        names = [tool.name for tool in tools]
        await state.registry.serve(connection, message.server_id, names)
        await state.presence.connected(connection)
        registered = ToolsRegistered(server_id=message.server_id, connection_id=connection.connection_id, tools=names)
        await connection.send(registered)

    async def _result(self, message: ToolResultMessage) -> None:
        call = self._connection.inflight.pop(message.call_id, None)
        if call is None:
            text = f"No call {message.call_id!r} is waiting for a result on this connection."
            await self._refuse("not_found_error", text, message.call_id)
            return
        await self._state.completions.result(call, message.result, self._connection.connection_id)

    async def _refuse(self, error_type: str, text: str, call_id: str | None = None) -> None:
        await self._connection.send(ErrorMessage(error=ErrorDetail(type=error_type, message=text), call_id=call_id))


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    kind = first["type"]
    if kind == "json_invalid":
        return "The message is not valid JSON."
    if kind == "union_tag_invalid":
        return f"Unknown message type {first.get('ctx', {}).get('tag')!r}."
    if kind == "union_tag_not_found":
        return "The message has no 'type'."
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}"
