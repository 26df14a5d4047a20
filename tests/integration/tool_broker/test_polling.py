"""Polling connectors: calls wait in JetStream for ``POST /poll``; results come back through ``POST /submit``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from integration.tool_broker.broker_harness import BrokerStack, Orchestrator, mint_key
from switchboard.common.tool_events import ToolCallCompleted


@pytest.fixture
async def http(mcp: BrokerStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mcp.broker_url, headers={"x-api-key": mcp.key}, timeout=40) as client:
        yield client


async def register(http: httpx.AsyncClient, user_id: str, server_id: str) -> None:
    body = {"user_id": user_id, "server_id": server_id, "method": "polling",
            "tools": [{"name": "echo", "inputSchema": {"type": "object", "required": ["text"]}}]}  # fmt: skip
    answer = await http.post("/api/mcp/register", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["method"] == "polling"


async def poll(http: httpx.AsyncClient, user_id: str, server_id: str | None, wait: float = 0) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"user_id": user_id, "wait": wait} | ({"server_id": server_id} if server_id else {})
    answer = await http.post("/api/mcp/poll", json=body)
    assert answer.status_code == 200, answer.text
    calls: list[dict[str, Any]] = answer.json()["pending_calls"]
    return calls


async def submit(http: httpx.AsyncClient, call_id: str, text: str) -> httpx.Response:
    return await http.post("/api/mcp/submit", json={"call_id": call_id, "result": {"success": True, "content": text}})


def in_background(orchestrator: Orchestrator, user_id: str, server_id: str, text: str,
                  timeout: float = 20.0) -> asyncio.Task[ToolCallCompleted]:  # fmt: skip
    return asyncio.create_task(orchestrator.call(user_id, server_id, "echo", {"text": text}, timeout=timeout))


async def test_a_long_poll_returns_as_soon_as_a_call_arrives(
    mcp: BrokerStack, orchestrator: Orchestrator, http: httpx.AsyncClient
) -> None:
    await register(http, mcp.user_id, "long")
    started = time.monotonic()
    polling = asyncio.create_task(poll(http, mcp.user_id, "long", wait=20))
    await asyncio.sleep(0.5)
    completion = in_background(orchestrator, mcp.user_id, "long", "hello")
    [call] = await polling
    assert time.monotonic() - started < 5
    assert call["tool"] == "echo" and call["input"] == {"text": "hello"} and call["server_id"] == "long"
    assert (await submit(http, call["call_id"], "polled")).json() == {"status": "accepted"}
    completed = await completion
    assert completed.content == [{"type": "text", "text": "polled"}] and not completed.is_error
    assert completed.connection_id is not None and completed.connection_id.startswith("mcpp_")


async def test_a_call_waits_in_jetstream_for_a_poller_that_comes_later(
    mcp: BrokerStack, orchestrator: Orchestrator, http: httpx.AsyncClient
) -> None:
    await register(http, mcp.user_id, "later")
    completion = in_background(orchestrator, mcp.user_id, "later", "waiting")
    await asyncio.sleep(1.0)
    assert not completion.done()
    [call] = await poll(http, mcp.user_id, "later")
    assert await poll(http, mcp.user_id, "later") == []  # handed out once
    await submit(http, call["call_id"], "finally")
    assert (await completion).content == [{"type": "text", "text": "finally"}]


async def test_a_result_is_taken_once(mcp: BrokerStack, orchestrator: Orchestrator, http: httpx.AsyncClient) -> None:
    await register(http, mcp.user_id, "once")
    completion = in_background(orchestrator, mcp.user_id, "once", "x")
    [call] = await poll(http, mcp.user_id, "once", wait=10)
    first, second = await submit(http, call["call_id"], "first"), await submit(http, call["call_id"], "second")
    unknown = await submit(http, "toolu_unknown", "nobody")
    assert first.status_code == 200
    assert (await completion).content == [{"type": "text", "text": "first"}]
    for refused in (second, unknown):
        assert refused.status_code == 404
        assert refused.json()["error"]["type"] == "not_found_error" and refused.headers["request-id"]


async def test_another_users_call_cannot_be_answered(
    mcp: BrokerStack, orchestrator: Orchestrator, http: httpx.AsyncClient
) -> None:
    await register(http, mcp.user_id, "private")
    completion = in_background(orchestrator, mcp.user_id, "private", "mine")
    [call] = await poll(http, mcp.user_id, "private", wait=10)
    bob_key, _ = await mint_key(mcp.stack, "bob")
    async with httpx.AsyncClient(base_url=mcp.broker_url, headers={"x-api-key": bob_key}, timeout=10) as bob:
        stolen = await submit(bob, call["call_id"], "bob was here")
        peeked = await bob.post("/api/mcp/poll", json={"user_id": mcp.user_id, "server_id": "private"})
    assert stolen.status_code == 404 and peeked.status_code == 403
    assert not completion.done()
    assert (await submit(http, call["call_id"], "the owner's answer")).status_code == 200
    assert (await completion).content == [{"type": "text", "text": "the owner's answer"}]


async def test_an_unanswered_call_times_out_and_is_not_handed_out_any_more(
    mcp: BrokerStack, orchestrator: Orchestrator, http: httpx.AsyncClient
) -> None:
    await register(http, mcp.user_id, "nobody-polls")
    completed = await orchestrator.call(mcp.user_id, "nobody-polls", "echo", {"text": "x"}, timeout=1.0)
    assert completed.is_error
    assert completed.content[0]["text"] == "the tool 'echo' of MCP server 'nobody-polls' did not answer within 1 s"
    assert await poll(http, mcp.user_id, "nobody-polls") == []


async def test_a_poll_without_server_takes_calls_of_every_polling_server(
    mcp: BrokerStack, orchestrator: Orchestrator, http: httpx.AsyncClient
) -> None:
    user_id = "carol"
    key, _ = await mint_key(mcp.stack, user_id)
    async with httpx.AsyncClient(base_url=mcp.broker_url, headers={"x-api-key": key}, timeout=40) as carol:
        await register(carol, user_id, "one")
        await register(carol, user_id, "two")
        polling = asyncio.create_task(poll(carol, user_id, None, wait=20))
        await asyncio.sleep(0.5)
        completion = in_background(orchestrator, user_id, "two", "to two")
        [call] = await polling
        assert call["server_id"] == "two"
        await submit(carol, call["call_id"], "two answered")
        assert (await completion).content == [{"type": "text", "text": "two answered"}]
        tools = await orchestrator.list_tools(user_id)
    assert {(tool.server_id, tool.name) for tool in tools} == {("one", "echo"), ("two", "echo")}


async def test_polling_checks_input_and_registration(
    mcp: BrokerStack, orchestrator: Orchestrator, http: httpx.AsyncClient
) -> None:
    await register(http, mcp.user_id, "checked")
    invalid = await orchestrator.call(mcp.user_id, "checked", "echo", {"not": "text"})
    unregistered = await http.post("/api/mcp/poll", json={"user_id": mcp.user_id, "server_id": "not-registered"})
    assert invalid.is_error and "'text' is a required property" in str(invalid.content[0]["text"])
    assert await poll(http, mcp.user_id, "checked") == []
    assert unregistered.status_code == 404 and unregistered.json()["type"] == "error"
