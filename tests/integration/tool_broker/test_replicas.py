"""Two tool-broker replicas: calls reach a connector whichever replica takes them, and survive a dropped connector."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.anthropic_provider import FakeAnthropic
from integration.tool_broker.broker_harness import FAST_HEARTBEAT, BrokerStack, Connector, Orchestrator, broker_stack
from support.processes import wait_until
from switchboard.cli.embedded_nats import EmbeddedNats


@pytest.fixture(scope="module")
def mcp(
    tmp_path_factory: pytest.TempPathFactory, nats_server: EmbeddedNats, fake_anthropic: FakeAnthropic
) -> Iterator[BrokerStack]:
    with broker_stack(tmp_path_factory.mktemp("replicas"), nats_server, fake_anthropic, **FAST_HEARTBEAT) as started:
        started.stack.add_tool_broker()
        yield started


@pytest.fixture(scope="module")
def second(mcp: BrokerStack) -> str:
    port, _ = mcp.stack.tool_brokers[1]
    return f"http://127.0.0.1:{port}"


async def silent(call: dict[str, Any]) -> None:
    return None


async def wait_for_call(connector: Connector, count: int = 1) -> None:
    for _ in range(100):
        if len(connector.calls) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the connector got no call")


def instance(url: str) -> str:
    return str(httpx.get(f"{url}/api/mcp/health", timeout=5).json()["instance"])


async def status(url: str, key: str) -> dict[str, Any]:
    async with httpx.AsyncClient(headers={"x-api-key": key}, timeout=5) as http:
        answer: dict[str, Any] = (await http.get(f"{url}/api/mcp/status")).json()
        return answer


async def test_calls_reach_a_connector_on_the_other_replica(
    mcp: BrokerStack, second: str, orchestrator: Orchestrator
) -> None:
    async with Connector.open(second, mcp.key, mcp.user_id) as connector:
        registered = await connector.register("far")
        results = [await orchestrator.call(mcp.user_id, "far", "echo", {"text": str(n)}) for n in range(20)]
        seen_by_first = await status(mcp.broker_url, mcp.key)
    # The queue group spreads the 20 requests over both replicas; each reaches the one connector.
    assert [result.is_error for result in results] == [False] * 20
    assert len(connector.calls) == 20
    [seen] = [c for c in seen_by_first["connections"] if c["connection_id"] == registered["connection_id"]]
    assert seen["broker"] == instance(second) != instance(mcp.broker_url)


async def test_a_dropped_connectors_call_completes_on_another_connector(
    mcp: BrokerStack, second: str, orchestrator: Orchestrator
) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id, handler=silent) as dropping:
        await dropping.register("flaky")
        completion = asyncio.create_task(orchestrator.call(mcp.user_id, "flaky", "echo", {"text": "again"}))
        await wait_for_call(dropping)
        async with Connector.open(second, mcp.key, mcp.user_id) as standby:
            standby_id = (await standby.register("flaky"))["connection_id"]
            dropping.socket.transport.abort()  # the laptop lid closes: no close frame
            completed = await completion
    assert not completed.is_error and completed.connection_id == standby_id
    assert [call["call_id"] for call in standby.calls] == [dropping.calls[0]["call_id"]]


async def test_a_call_is_redelivered_once_only(mcp: BrokerStack, second: str, orchestrator: Orchestrator) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id, handler=silent) as first:
        await first.register("twice")
        completion = asyncio.create_task(orchestrator.call(mcp.user_id, "twice", "echo", {"text": "x"}))
        await wait_for_call(first)
        async with Connector.open(second, mcp.key, mcp.user_id, handler=silent) as then:
            await then.register("twice")
            first.socket.transport.abort()
            await wait_for_call(then)
            then.socket.transport.abort()
            completed = await completion
    assert completed.is_error
    assert completed.content[0]["text"] == "the connector for 'twice' disconnected before answering"


async def test_a_dropped_call_with_no_other_connector_is_answered(mcp: BrokerStack, orchestrator: Orchestrator) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id, handler=silent) as alone:
        await alone.register("alone")
        completion = asyncio.create_task(orchestrator.call(mcp.user_id, "alone", "echo", {"text": "x"}, timeout=20))
        await wait_for_call(alone)
        await alone.socket.close()
        completed = await asyncio.wait_for(completion, 5)
    assert completed.is_error
    assert completed.content[0]["text"] == "the connector for 'alone' disconnected before answering"


async def test_status_and_tools_span_the_replicas(mcp: BrokerStack, second: str, orchestrator: Orchestrator) -> None:
    async with (
        Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as here,
        Connector.open(second, mcp.key, mcp.user_id) as there,
    ):
        await here.register("spread-a", ["a"])
        await there.register("spread-b", ["b"])
        tools = {(tool.server_id, tool.name) for tool in await orchestrator.list_tools(mcp.user_id)}
        answer = await status(second, mcp.key)
    assert {("spread-a", "a"), ("spread-b", "b")} <= tools
    brokers = {c["server_id"]: c["broker"] for c in answer["connections"]}
    assert brokers["spread-a"] != brokers["spread-b"]

    def both_gone() -> bool:
        left = httpx.get(f"{second}/api/mcp/status", headers={"x-api-key": mcp.key}, timeout=5).json()
        return not {"spread-a", "spread-b"} & {c["server_id"] for c in left["connections"]}

    wait_until(both_gone, timeout=5, what="closed connections to leave /status")


async def test_a_replica_that_shuts_down_hands_its_calls_to_another(
    mcp: BrokerStack, orchestrator: Orchestrator
) -> None:
    leaving_url = mcp.stack.add_tool_broker()
    _, leaving = mcp.stack.tool_brokers[-1]
    async with Connector.open(leaving_url, mcp.key, mcp.user_id, handler=silent) as stranded:
        await stranded.register("moving")
        completion = asyncio.create_task(orchestrator.call(mcp.user_id, "moving", "echo", {"text": "x"}, timeout=20))
        await wait_for_call(stranded)
        async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as staying:
            staying_id = (await staying.register("moving"))["connection_id"]
            assert await asyncio.to_thread(leaving.stop) == 0
            completed = await asyncio.wait_for(completion, 10)
        assert await stranded.closed() == 1012
    assert not completed.is_error and completed.connection_id == staying_id
