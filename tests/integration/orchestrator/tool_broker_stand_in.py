"""The tool-broker's side of the bus contract, played with raw nats-py: list a user's tools, answer their calls.

A contract-level stand-in for the orchestrator's agent tests; the real tool-broker is tested end to end elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import ExecuteToolCall, ListTools, McpTool, ToolCallCompleted, ToolsListed

Answer = Callable[[dict[str, Any]], tuple[str, bool]]
"""A tool's behaviour: input -> (result text, is_error)."""

NOTES_TOOLS: dict[str, Answer] = {
    "read_note": lambda args: (f"note {args.get('name')}", False),
    "add": lambda args: (str(args.get("a", 0) + args.get("b", 0)), False),
    "fail": lambda args: ("boom", True),
    "poison": lambda args: ("[[fake:status=529]]", False),  # makes the next provider call fail
}
SILENT = "slow"
"""A tool whose calls the stand-in takes and never answers."""


@dataclass
class ToolBrokerStandIn:
    connection: Client
    subjects: Subjects
    tools: list[McpTool] = field(
        default_factory=lambda: [McpTool(server_id="notes", name=name) for name in [*NOTES_TOOLS, SILENT]]
    )
    listings: list[ListTools] = field(default_factory=list)
    calls: list[ExecuteToolCall] = field(default_factory=list)
    _subscriptions: list[Subscription] = field(default_factory=list)

    async def start(self, *, execute: bool = True) -> ToolBrokerStandIn:
        """Answer listings, and calls too unless ``execute`` is false (then a call finds no responders)."""
        self._subscriptions.append(await self.connection.subscribe(self.subjects.list_tools, cb=self._list))
        if execute:
            subject = self.subjects.execute_tool_call_all
            self._subscriptions.append(await self.connection.subscribe(subject, cb=self._execute))
        await self.connection.flush()
        return self

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            await subscription.unsubscribe()

    def called(self) -> list[tuple[str, str, dict[str, object]]]:
        return [(call.server_id, call.tool_name, call.input) for call in self.calls]

    async def _list(self, message: Msg) -> None:
        self.listings.append(ListTools.model_validate_json(message.data))
        await message.respond(ToolsListed(tools=self.tools).model_dump_json().encode())

    async def _execute(self, message: Msg) -> None:
        call = ExecuteToolCall.model_validate_json(message.data)
        self.calls.append(call)
        if call.tool_name == SILENT:
            return
        text, is_error = NOTES_TOOLS[call.tool_name](dict(call.input))
        completed = ToolCallCompleted(
            request_id=call.request_id,
            user_id=call.user_id,
            call_id=call.call_id,
            is_error=is_error,
            content=[{"type": "text", "text": text}],
            connection_id="conn-test",
        )
        await message.respond(completed.model_dump_json().encode())


def tool_input(**values: Any) -> str:
    """The ``[[fake:tool_input=…]]`` directive for every call the fake model makes."""
    return f"[[fake:tool_input={json.dumps(values)}]]"
