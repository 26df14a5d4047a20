"""``ToolCallCompleted`` always fits in one NATS message, whatever the configured result cap."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from nats.aio.client import Client

from switchboard.common.mcp_protocol import ToolResult
from switchboard.common.tool_events import ExecuteToolCall, ToolCallCompleted
from switchboard.tool_broker.completion import Completions
from switchboard.tool_broker.results import content_size


@dataclass
class Bus:
    """What ``Completions`` uses of a nats-py client."""

    max_payload: int
    published: list[tuple[str, bytes]] = field(default_factory=list)

    async def publish(self, subject: str, payload: bytes) -> None:
        self.published.append((subject, payload))


def call(reply_subject: str = "_INBOX.x") -> ExecuteToolCall:
    return ExecuteToolCall(
        request_id="req_1", user_id="alice", call_id="toolu_1", server_id="fs", tool_name="read",
        reply_subject=reply_subject,
    )  # fmt: skip


async def send(bus: Bus, cap: int, text: str) -> ToolCallCompleted:
    await Completions(cast(Client, bus), cap).result(call(), ToolResult(success=True, content=text), "mcpc_1")
    [(subject, payload)] = bus.published
    assert subject == "_INBOX.x"
    return ToolCallCompleted.model_validate_json(payload)


async def test_the_result_cap_applies_first() -> None:
    completed = await send(Bus(max_payload=1_000_000), 2000, "x" * 5000)
    assert completed.truncated and content_size(completed.content) <= 2000
    assert str(completed.content[-1]["text"]).endswith(" bytes]")
    assert completed.connection_id == "mcpc_1" and completed.request_id == "req_1"


async def test_a_smaller_bus_limit_cuts_further_and_says_why() -> None:
    bus = Bus(max_payload=20_000)
    completed = await send(bus, 1_000_000, "x" * 50_000)
    assert completed.truncated and len(bus.published[0][1]) <= 20_000
    assert str(completed.content[-1]["text"]).endswith(" bytes to fit the message bus]")


async def test_results_that_fit_pass_untouched_and_errors_come_from_the_broker() -> None:
    bus = Bus(max_payload=1_000_000)
    completions = Completions(cast(Client, bus), 2000)
    await completions.result(call(), ToolResult(success=True, content="fine"), "mcpc_1")
    await completions.error(call(), "no connector")
    await completions.error(call(reply_subject=""), "nowhere to send it")
    ok, error = (ToolCallCompleted.model_validate_json(payload) for _, payload in bus.published)
    assert ok.content == [{"type": "text", "text": "fine"}] and not ok.truncated
    assert error.is_error and error.connection_id is None and error.content[0]["text"] == "no connector"
