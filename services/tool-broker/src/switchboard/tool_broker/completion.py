"""Answers the orchestrator: one ``ToolCallCompleted`` on the call's reply subject, small enough for the bus.

The content is capped at ``result_max_bytes``, and further when the NATS server's ``max_payload`` is smaller
than that (the note in the content says which).
"""

from __future__ import annotations

import logging

from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from switchboard.common.logs import request_scope
from switchboard.common.mcp_protocol import ToolResult
from switchboard.common.tool_events import ExecuteToolCall, ToolCallCompleted
from switchboard.common.tracing import continued
from switchboard.tool_broker.results import cap_content, result_content, text_content

__all__ = ["Completions"]

logger = logging.getLogger(__name__)

_HEADROOM = 4096
"""Bytes kept free below ``max_payload`` for headers and JSON encoding differences."""


class Completions:
    def __init__(self, nc: NatsClient, result_max_bytes: int) -> None:
        self._nc = nc
        self._max_bytes = result_max_bytes

    async def error(self, call: ExecuteToolCall, text: str) -> None:
        """The broker answers for the connector (no connector, invalid input, disconnected…)."""
        await self.send(call, is_error=True, content=text_content(text), connection_id=None)

    async def result(self, call: ExecuteToolCall, result: ToolResult, connection_id: str | None) -> None:
        is_error, content = result_content(result)
        await self.send(call, is_error=is_error, content=content, connection_id=connection_id)

    async def send(
        self, call: ExecuteToolCall, *, is_error: bool, content: list[dict[str, object]], connection_id: str | None
    ) -> None:
        # Called from the connector's connection, not the call's task: its lines belong to the call's request.
        with request_scope(call.request_id), continued(call.traceparent):
            await self._send(call, is_error=is_error, content=content, connection_id=connection_id)

    async def _send(
        self, call: ExecuteToolCall, *, is_error: bool, content: list[dict[str, object]], connection_id: str | None
    ) -> None:
        if not call.reply_subject:
            logger.warning("call %s has no reply subject; its result is dropped", call.call_id)
            return
        logger.debug("tool call %s answered (error: %s)", call.call_id, is_error)
        empty = self._completed(call, is_error, [], connection_id, truncated=True)
        bus_limit = self._nc.max_payload - len(empty.model_dump_json()) - _HEADROOM
        limit = min(self._max_bytes, bus_limit)
        content, truncated = cap_content(content, limit, "" if limit == self._max_bytes else "to fit the message bus")
        completed = self._completed(call, is_error, content, connection_id, truncated=truncated)
        try:
            await self._nc.publish(call.reply_subject, completed.model_dump_json().encode())
        except NatsError:
            logger.exception("could not send the result of call %s", call.call_id)

    @staticmethod
    def _completed(
        call: ExecuteToolCall,
        is_error: bool,
        content: list[dict[str, object]],
        connection_id: str | None,
        *,
        truncated: bool,
    ) -> ToolCallCompleted:
        return ToolCallCompleted(
            request_id=call.request_id,
            user_id=call.user_id,
            call_id=call.call_id,
            is_error=is_error,
            content=content,
            connection_id=connection_id,
            truncated=truncated,
        )
