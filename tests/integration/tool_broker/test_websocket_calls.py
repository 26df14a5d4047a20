"""Tool calls over a WebSocket connector: NATS request → broker → connector → ``ToolCallCompleted``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from integration.tool_broker.broker_harness import BrokerStack, Connector, Orchestrator


async def test_a_call_goes_to_the_connector_and_its_result_comes_back(
    mcp: BrokerStack, orchestrator: Orchestrator
) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        registered = await connector.register("round-trip")
        assert registered["tools"] == ["echo", "anything"]
        assert registered["connection_id"].startswith("mcpc_")
        completed = await orchestrator.call(mcp.user_id, "round-trip", "echo", {"text": "hi", "count": 2})
    assert not completed.is_error
    assert completed.content == [{"type": "text", "text": json.dumps({"count": 2, "text": "hi"})}]
    assert completed.connection_id == registered["connection_id"]
    assert not completed.truncated
    [call] = connector.calls
    assert call["tool"] == "echo" and call["server_id"] == "round-trip" and call["deadline"] > call["timestamp"]


async def test_input_is_checked_against_the_tool_schema_before_dispatch(
    mcp: BrokerStack, orchestrator: Orchestrator
) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        await connector.register("schema")
        missing = await orchestrator.call(mcp.user_id, "schema", "echo", {"count": 1})
        negative = await orchestrator.call(mcp.user_id, "schema", "echo", {"text": "x", "count": -1})
        bare = await orchestrator.call(mcp.user_id, "schema", "anything", {"whatever": [1, 2]})
    assert missing.is_error and missing.connection_id is None
    assert missing.content[0]["text"] == (
        "invalid input for tool 'echo' of MCP server 'schema': at $: 'text' is a required property"
    )
    assert negative.is_error
    assert "at $.count: -1 is less than the minimum of 0" in str(negative.content[0]["text"])
    assert not bare.is_error  # a tool registered by name takes any object
    assert [call["tool"] for call in connector.calls] == ["anything"]


async def test_a_broken_schema_accepts_any_input(mcp: BrokerStack, orchestrator: Orchestrator) -> None:
    broken = {"name": "odd", "inputSchema": {"type": "no-such-type", "properties": 3}}
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        await connector.register("broken-schema", [broken])
        completed = await orchestrator.call(mcp.user_id, "broken-schema", "odd", {"a": 1})
    assert not completed.is_error


async def test_unknown_servers_and_tools_are_answered_by_name(mcp: BrokerStack, orchestrator: Orchestrator) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        await connector.register("known")
        no_tool = await orchestrator.call(mcp.user_id, "known", "nope")
    no_server = await orchestrator.call(mcp.user_id, "never-registered", "echo", {"text": "x"})
    gone = await orchestrator.call(mcp.user_id, "known", "echo", {"text": "x"})
    assert no_tool.is_error and no_tool.content[0]["text"] == "MCP server 'known' has no tool 'nope'"
    assert no_server.is_error
    assert no_server.content[0]["text"] == "no connector for MCP server 'never-registered' is connected"
    assert gone.is_error and gone.content[0]["text"] == "no connector for MCP server 'known' is connected"


async def test_results_map_to_content_blocks(mcp: BrokerStack, orchestrator: Orchestrator) -> None:
    answers: dict[str, dict[str, Any]] = {
        "blocks": {
            "success": True,
            "content": [
                {"type": "text", "text": "a"},
                {"no": "type"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}},
            ],
        },
        "nothing": {"success": True},
        "failed": {"success": False, "error": "disk full"},
        "failed-silently": {"success": False},
    }

    async def answer(call: dict[str, Any]) -> dict[str, Any]:
        return answers[call["input"]["text"]]

    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id, handler=answer) as connector:
        await connector.register("mapping")
        results = {name: await orchestrator.call(mcp.user_id, "mapping", "echo", {"text": name}) for name in answers}
    assert [block["type"] for block in results["blocks"].content] == ["text", "image"]
    assert results["nothing"].content == [] and not results["nothing"].is_error
    assert results["failed"].is_error and results["failed"].content == [{"type": "text", "text": "disk full"}]
    assert results["failed-silently"].content == [{"type": "text", "text": "the tool failed"}]


async def test_a_connector_that_never_answers_times_out_at_the_deadline(
    mcp: BrokerStack, orchestrator: Orchestrator
) -> None:
    async def silent(call: dict[str, Any]) -> None:
        return None

    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id, handler=silent) as connector:
        await connector.register("silent")
        started = asyncio.get_running_loop().time()
        completed = await orchestrator.call(mcp.user_id, "silent", "echo", {"text": "x"}, timeout=1.0)
        elapsed = asyncio.get_running_loop().time() - started
        # The late answer finds nothing to answer any more.
        await connector.send({"type": "tool_result", "call_id": connector.calls[0]["call_id"],
                              "result": {"success": True, "content": "late"}})  # fmt: skip
        late = await connector.expect("error")
    assert completed.is_error
    assert completed.content[0]["text"] == "the tool 'echo' of MCP server 'silent' did not answer within 1 s"
    assert 0.9 < elapsed < 3.0
    assert late["error"]["type"] == "not_found_error" and late["call_id"] == connector.calls[0]["call_id"]


async def test_calls_spread_over_the_connectors_of_a_server(mcp: BrokerStack, orchestrator: Orchestrator) -> None:
    async with (
        Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as first,
        Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as second,
    ):
        await first.register("pair")
        await second.register("pair")
        results = await asyncio.gather(
            *(orchestrator.call(mcp.user_id, "pair", "echo", {"text": str(n)}) for n in range(20))
        )
    assert not any(result.is_error for result in results)
    assert first.calls and second.calls  # the least busy connector gets each call
    assert len(first.calls) + len(second.calls) == 20
