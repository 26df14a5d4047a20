"""MCP tool calls and their errors in the usage ledger: written by the metering process, summed per day and model."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from support.metering import MeteringHarness, make_completion
from switchboard.common.events import ToolCallRecord, utc_now


def calls(succeeded: int, failed: int) -> list[ToolCallRecord]:
    ok = [ToolCallRecord(server_id="notes", name="read_note", duration_ms=3.0) for _ in range(succeeded)]
    return ok + [ToolCallRecord(server_id="notes", name="read_note", duration_ms=3.0, is_error=True)] * failed


async def test_usage_counts_mcp_calls_and_errors_per_day_and_model(tmp_path: Path, nats_url: str) -> None:
    yesterday = utc_now() - timedelta(days=1)
    async with MeteringHarness(nats_url, tmp_path, None) as bus:
        bus.start()
        await bus.publish(
            make_completion("req_1", mcp_tool_calls=calls(2, 1), tool_use_count=0),
            make_completion("req_2", mcp_tool_calls=calls(0, 2), tool_use_count=1, requested_model="claude-haiku"),
            make_completion("req_3", tool_use_count=4),  # a plain request: client tool_use blocks only
            make_completion("req_4", mcp_tool_calls=calls(1, 0), tool_use_count=0, occurred_at=yesterday),
            make_completion("req_5", user_id="bob", mcp_tool_calls=calls(5, 5)),
        )
        await bus.settled()
        report = await bus.usage("alice", start=yesterday.date())

    totals = report.totals
    assert (totals.requests, totals.mcp_tool_calls, totals.mcp_tool_errors) == (4, 6, 3)
    assert totals.tool_calls == 6 + 1 + 4, "tool_calls still counts client tool_use blocks plus MCP calls"
    by_day = {day.key: (day.mcp_tool_calls, day.mcp_tool_errors) for day in report.by_day}
    assert by_day == {yesterday.date().isoformat(): (1, 0), utc_now().date().isoformat(): (5, 3)}
    by_model = {model.key: (model.requests, model.mcp_tool_calls, model.mcp_tool_errors) for model in report.by_model}
    assert by_model == {"claude-sonnet": (3, 4, 1), "claude-haiku": (1, 2, 2)}


async def test_everyones_usage_adds_every_users_calls(tmp_path: Path, nats_url: str) -> None:
    async with MeteringHarness(nats_url, tmp_path, None) as bus:
        bus.start()
        await bus.publish(
            make_completion("req_a", mcp_tool_calls=calls(3, 1)),
            make_completion("req_b", user_id="bob", mcp_tool_calls=calls(1, 1)),
        )
        await bus.settled()
        everyone = await bus.usage(None)
        nobody = await bus.usage("carol")
    assert (everyone.totals.mcp_tool_calls, everyone.totals.mcp_tool_errors) == (6, 2)
    assert (nobody.totals.mcp_tool_calls, nobody.totals.mcp_tool_errors) == (0, 0)
