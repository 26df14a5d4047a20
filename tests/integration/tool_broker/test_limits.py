"""The broker's limits, on a broker configured small: result size, message rate and size, calls in flight,
connections per user, tools per server, and silent connections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from fakes.anthropic_provider import FakeAnthropic
from integration.tool_broker.broker_harness import BrokerStack, Connector, Orchestrator, broker_stack, mint_key, ws_url
from switchboard.cli.embedded_nats import EmbeddedNats

LIMITS = {
    "SWITCHBOARD_MCP_RESULT_MAX_BYTES": "2000",
    "SWITCHBOARD_MCP_MAX_MESSAGE_BYTES": "65536",
    "SWITCHBOARD_MCP_MESSAGE_RATE": "5",
    "SWITCHBOARD_MCP_MESSAGE_BURST": "5",
    "SWITCHBOARD_MCP_MAX_CONNECTIONS_PER_USER": "3",
    "SWITCHBOARD_MCP_MAX_TOOLS_PER_SERVER": "3",
    "SWITCHBOARD_MCP_MAX_INFLIGHT_PER_CONNECTION": "2",
    "SWITCHBOARD_MCP_HEARTBEAT_INTERVAL": "0.5",
    "SWITCHBOARD_MCP_IDLE_TIMEOUT": "1.5",
}


@pytest.fixture(scope="module")
def mcp(
    tmp_path_factory: pytest.TempPathFactory, nats_server: EmbeddedNats, fake_anthropic: FakeAnthropic
) -> Iterator[BrokerStack]:
    with broker_stack(tmp_path_factory.mktemp("limits"), nats_server, fake_anthropic, **LIMITS) as started:
        yield started


async def register(mcp: BrokerStack, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(headers={"x-api-key": mcp.key}, timeout=10) as http:
        return await http.post(f"{mcp.broker_url}/api/mcp/register", json=body)


async def test_a_large_result_is_truncated_with_a_note(mcp: BrokerStack, orchestrator: Orchestrator) -> None:
    async def large(call: dict[str, Any]) -> dict[str, Any]:
        return {"success": True, "content": [{"type": "text", "text": "é" * 5000}, {"type": "text", "text": "tail"}]}

    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id, handler=large) as connector:
        await connector.register("large")
        completed = await orchestrator.call(mcp.user_id, "large", "anything")
    assert completed.truncated and not completed.is_error
    size = len(json.dumps(completed.content, ensure_ascii=False, separators=(",", ":")).encode())
    assert size <= 2000
    cut, note = completed.content
    assert set(str(cut["text"])) == {"é"}
    assert str(note["text"]).startswith("[switchboard: tool result truncated from 10057 to ")


async def test_messages_over_the_rate_are_refused_then_the_connection_is_closed(mcp: BrokerStack) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        for _ in range(8):
            await connector.send({"type": "ping"})
        answers = [await connector.expect_any() for _ in range(8)]
        assert [a["type"] for a in answers].count("pong") >= 5
        refused = [a for a in answers if a["type"] == "error"]
        assert refused and refused[0]["error"]["type"] == "rate_limit_error"
        await asyncio.sleep(1.0)  # tokens come back
        await connector.send({"type": "ping"})
        assert (await connector.expect("pong"))["type"] == "pong"
        for _ in range(40):
            await connector.send({"type": "ping"})
        assert await connector.closed() == 1008


async def test_oversized_messages_close_the_connection_and_oversized_bodies_get_413(mcp: BrokerStack) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        await connector.send({"type": "ping", "padding": "x" * 70_000})
        assert await connector.closed() == 1009
    body = {"user_id": mcp.user_id, "server_id": "big", "tools": ["x" * 100] * 700}
    answer = await register(mcp, body)
    assert answer.status_code == 413 and answer.json()["error"]["type"] == "request_too_large"


async def test_a_connector_with_too_many_calls_in_flight_is_busy(mcp: BrokerStack, orchestrator: Orchestrator) -> None:
    async def silent(call: dict[str, Any]) -> None:
        return None

    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id, handler=silent) as connector:
        await connector.register("busy")
        results = await asyncio.gather(
            *(orchestrator.call(mcp.user_id, "busy", "anything", timeout=1.5) for _ in range(3))
        )
    texts = sorted(str(result.content[0]["text"]) for result in results)
    assert all(result.is_error for result in results)
    assert texts[0] == "the connector for MCP server 'busy' is busy (2 calls in flight)"
    assert texts[1:] == ["the tool 'anything' of MCP server 'busy' did not answer within 1.5 s"] * 2


async def test_a_user_may_hold_only_so_many_connections(mcp: BrokerStack) -> None:
    key, _ = await mint_key(mcp.stack, "erin")
    async with (
        Connector.open(mcp.broker_url, key, "erin"),
        Connector.open(mcp.broker_url, key, "erin"),
        Connector.open(mcp.broker_url, key, "erin"),
    ):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(mcp.broker_url, "erin"), additional_headers={"x-api-key": key}):
                pass
    assert refused.value.response.status_code == 429
    assert json.loads(refused.value.response.body or b"")["error"]["type"] == "rate_limit_error"


async def test_a_server_may_register_only_so_many_tools(mcp: BrokerStack) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        await connector.send({"type": "register_tools", "server_id": "many", "tools": ["a", "b", "c", "d"]})
        error = await connector.expect("error")
    assert error["error"]["type"] == "invalid_request_error" and "at most 3" in error["error"]["message"]
    body = {"user_id": mcp.user_id, "server_id": "many", "tools": ["a", "b", "c", "d"]}
    answer = await register(mcp, body)
    assert answer.status_code == 400


async def test_a_silent_connection_is_closed(mcp: BrokerStack) -> None:
    async with connect(ws_url(mcp.broker_url, mcp.user_id), additional_headers={"x-api-key": mcp.key}) as socket:
        # Never answers the broker's pings: closed after the idle timeout (1.5 s here).
        await asyncio.wait_for(socket.wait_closed(), 10)
    assert socket.close_code == 4408
