"""The agent loop: call the model, run its MCP tool calls through the tool-broker, feed the results back, repeat.

It stops when the model answers, asks for one of the client's own tools (returned as a normal ``tool_use``;
MCP calls beside it are dropped, not run), or has used the agent's ``max_iterations`` provider calls. At the
bound the answer ends with ``end_turn`` and a text block saying so: the pending MCP calls were never run, and a
client must not take the turn for a truncated one (``max_tokens``) and retry it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from switchboard.common.events import ExecuteRequest
from switchboard.orchestrator.agents.agent_config import Agent
from switchboard.orchestrator.agents.broker_client import PendingCall, ToolBroker
from switchboard.orchestrator.agents.client_reply import ClientReply, MessageReply, StreamingReply
from switchboard.orchestrator.agents.conversation import Conversation
from switchboard.orchestrator.agents.iteration import IterationSink
from switchboard.orchestrator.agents.tool_catalog import ToolCatalog, client_tool_names
from switchboard.orchestrator.agents.trace import AgentTrace
from switchboard.orchestrator.agents.usage_totals import UsageTotals
from switchboard.orchestrator.providers.base import ResponseSink
from switchboard.orchestrator.providers.request_json import body_object
from switchboard.orchestrator.response_writer import ResponseWriter

__all__ = ["AgentLoop", "Upstream", "mcp_calls", "stopped_notice"]

logger = logging.getLogger(__name__)

Upstream = Callable[[bytes, ResponseSink], Awaitable[None]]
"""Sends one request body to the routed provider (with fallbacks where they still apply)."""


def stopped_notice(iterations: int) -> str:
    return f"[switchboard: stopped after {iterations} iterations with tool calls still pending]"


class AgentLoop:
    def __init__(
        self,
        agent: Agent,
        request: ExecuteRequest,
        writer: ResponseWriter,
        broker: ToolBroker,
        upstream: Upstream,
        trace: AgentTrace,
    ) -> None:
        self._agent = agent
        self._request = request
        self._writer = writer
        self._broker = broker
        self._upstream = upstream
        self.trace = trace
        self._totals = UsageTotals()

    async def run(self, body: bytes, model: str) -> None:
        payload = body_object(body)
        tools = await self._broker.list_tools(self._request.request_id, self._request.user_id)
        catalog = ToolCatalog(tools, self._agent.tools, client_tool_names(payload))
        conversation = Conversation(payload, self._agent, catalog, model)
        reply_type = StreamingReply if self._request.stream else MessageReply
        reply = reply_type(self._writer, catalog)
        try:
            while await self._iterate(conversation, catalog, reply):
                pass
        finally:
            # A client told the sums already; after an error or a cancel the earlier calls were still spent.
            self._writer.usage.settle(self._totals.as_dict())

    async def _iterate(self, conversation: Conversation, catalog: ToolCatalog, reply: ClientReply) -> bool:
        """One provider call and what follows from it; ``True`` when the loop goes on."""
        sink = IterationSink(reply)
        self.trace.iterations += 1
        try:
            await self._upstream(conversation.encoded(), sink)
        finally:
            # What the call reported, or what it streamed when it was cut before reporting.
            self._totals.add(sink.tracker.billable_tokens())
        if sink.failure is not None:
            await self._writer.upstream_error(sink.failure.status, sink.failure.headers, sink.failure.body)
            return False
        if sink.error is not None:
            await reply.stream_error(sink.error)
            return False
        blocks = sink.blocks
        reply.iteration_done(sink.message, blocks)
        calls = mcp_calls(blocks, sink.tracker.stop_reason, catalog)
        if calls is None:
            await reply.finish(sink.tracker.stop_reason, sink.stop_sequence, self._totals.as_dict())
            return False
        if self.trace.iterations >= self._agent.max_iterations:
            logger.info("request %s: agent %s stopped at its bound of %d iterations",
                        self._request.request_id, self._agent.name, self.trace.iterations)  # fmt: skip
            await reply.finish("end_turn", None, self._totals.as_dict(), stopped_notice(self.trace.iterations))
            return False
        conversation.add_round(blocks, await self._run(calls))
        return True

    async def _run(self, calls: Sequence[PendingCall]) -> list[dict[str, Any]]:
        """Every call at once; cancelling the request cancels them all (the TaskGroup does)."""
        request, timeout = self._request, self._agent.tool_timeout
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self._broker.call(request.request_id, request.user_id, call, timeout))
                for call in calls
            ]
        outcomes = [task.result() for task in tasks]
        self.trace.tool_calls += [outcome.record for outcome in outcomes]
        return [outcome.result for outcome in outcomes]


def mcp_calls(
    blocks: Sequence[dict[str, Any]], stop_reason: str | None, catalog: ToolCatalog
) -> list[PendingCall] | None:
    """The MCP calls to run before the next iteration, or ``None`` when the loop stops here.

    It stops unless the model stopped for tool use and every ``tool_use`` names an MCP tool: a call of one of
    the client's own tools hands the turn back to the client.
    """
    if stop_reason != "tool_use":
        return None
    calls: list[PendingCall] = []
    for block in blocks:
        if block.get("type") != "tool_use":
            continue
        ref = catalog.resolve(block.get("name"))
        if ref is None:
            return None
        tool_input = block.get("input")
        call_input = tool_input if isinstance(tool_input, dict) else {}
        calls.append(PendingCall(str(block.get("id", "")), ref.server_id, ref.name, call_input))
    return calls or None
