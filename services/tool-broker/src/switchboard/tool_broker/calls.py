"""An ``ExecuteToolCall`` as a connector sees it (``tool_call``), and the deadline after which nobody waits."""

from __future__ import annotations

from datetime import datetime, timedelta

from switchboard.common.events import utc_now
from switchboard.common.mcp_protocol import ToolCallMessage
from switchboard.common.tool_events import ExecuteToolCall

__all__ = ["deadline_of", "is_expired", "timed_out", "tool_call_message"]


def deadline_of(call: ExecuteToolCall) -> datetime:
    return call.occurred_at + timedelta(seconds=call.timeout_s)


def is_expired(call: ExecuteToolCall, now: datetime | None = None) -> bool:
    return deadline_of(call) <= (now or utc_now())


def timed_out(call: ExecuteToolCall) -> str:
    """What the model reads when a connector did not answer in time."""
    return f"the tool '{call.tool_name}' of MCP server '{call.server_id}' did not answer within {call.timeout_s:g} s"


def tool_call_message(call: ExecuteToolCall) -> ToolCallMessage:
    return ToolCallMessage(
        call_id=call.call_id,
        tool=call.tool_name,
        input=call.input,
        timestamp=call.occurred_at.isoformat(),
        server_id=call.server_id,
        deadline=deadline_of(call).isoformat(),
    )
