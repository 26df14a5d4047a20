"""The connector protocol on a WebSocket: registration, refused messages, heartbeats, and what the broker reports."""

from __future__ import annotations

import asyncio

import httpx

from integration.tool_broker.broker_harness import BrokerStack, Connector, Orchestrator
from support.processes import wait_until


def _get(mcp: BrokerStack, path: str) -> httpx.Response:
    return httpx.get(f"{mcp.broker_url}{path}", headers={"x-api-key": mcp.key}, timeout=10)


async def test_refused_messages_get_an_error_and_the_connection_stays(mcp: BrokerStack) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        await connector.socket.send("{not json")
        assert (await connector.expect("error"))["error"] == {
            "type": "invalid_request_error", "message": "The message is not valid JSON.",
        }  # fmt: skip
        await connector.send({"type": "teleport"})
        assert (await connector.expect("error"))["error"]["message"] == "Unknown message type 'teleport'."
        await connector.send({"type": "tool_result", "call_id": "toolu_nobody", "result": {"success": True}})
        unknown = await connector.expect("error")
        await connector.send({"type": "tool_result", "result": {"success": True}})
        missing = await connector.expect("error")
        await connector.send({"type": "ping"})
        await connector.expect("pong")
        await connector.register("still-open")
    assert unknown["error"]["type"] == "not_found_error" and unknown["call_id"] == "toolu_nobody"
    assert missing["error"]["message"] == "tool_result.call_id: Field required"


async def test_the_broker_pings_and_answers_pings(mcp: BrokerStack) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        await connector.send({"type": "ping"})
        assert (await connector.expect("pong"))["type"] == "pong"
        await asyncio.sleep(2.5)  # the stack pings every second
    assert connector.pings >= 2


async def test_re_registration_replaces_the_tools(mcp: BrokerStack, orchestrator: Orchestrator) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        first = await connector.register("changing", ["one"])
        second = await connector.register("changing", ["two"])
        gone = await orchestrator.call(mcp.user_id, "changing", "one")
        kept = await orchestrator.call(mcp.user_id, "changing", "two")
    assert first["connection_id"] == second["connection_id"] and second["tools"] == ["two"]
    assert gone.is_error and not kept.is_error


async def test_an_empty_registration_adopts_the_tools_registered_over_http(
    mcp: BrokerStack, orchestrator: Orchestrator
) -> None:
    body = {"user_id": mcp.user_id, "server_id": "pre", "tools": ["alpha", {"name": "beta"}], "method": "websocket"}
    async with httpx.AsyncClient(headers={"x-api-key": mcp.key}, timeout=10) as http:
        answer = await http.post(f"{mcp.broker_url}/api/mcp/register", json=body)
    assert answer.json() == {"status": "registered", "server_id": "pre", "tools": ["alpha", "beta"],
                             "method": "websocket"}  # fmt: skip
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        registered = await connector.register("pre", [])
        completed = await orchestrator.call(mcp.user_id, "pre", "beta")
    assert registered["tools"] == ["alpha", "beta"]
    assert not completed.is_error


async def test_status_servers_and_list_tools_follow_live_connections(
    mcp: BrokerStack, orchestrator: Orchestrator
) -> None:
    async with Connector.open(mcp.broker_url, mcp.key, mcp.user_id) as connector:
        registered = await connector.register("listed")
        status = _get(mcp, "/api/mcp/status").json()
        servers = _get(mcp, f"/api/mcp/servers/{mcp.user_id}").json()
        live = await orchestrator.list_tools(mcp.user_id)
    [mine] = [c for c in status["connections"] if c["connection_id"] == registered["connection_id"]]
    assert status["user_id"] == mcp.user_id
    assert mine["server_id"] == "listed" and mine["method"] == "websocket" and mine["healthy"] is True
    assert mine["broker"].startswith("tb_") and mine["inflight"] == 0
    [server] = [s for s in servers["servers"] if s["server_id"] == "listed"]
    assert server["connections"] == 1 and server["method"] == "websocket"
    assert server["tools"][0] == {
        "name": "echo", "description": "Answers with its input", "input_schema": server["tools"][0]["input_schema"],
    }  # fmt: skip
    assert server["tools"][1] == {"name": "anything", "description": "", "input_schema": {"type": "object"}}
    assert {("listed", "echo"), ("listed", "anything")} <= {(t.server_id, t.name) for t in live}

    def disconnected() -> bool:
        return all(c["server_id"] != "listed" for c in _get(mcp, "/api/mcp/status").json()["connections"])

    wait_until(disconnected, timeout=5, what="the closed connection to leave /status")
    assert "listed" not in {t.server_id for t in await orchestrator.list_tools(mcp.user_id)}
    assert "listed" in {t.server_id for t in await orchestrator.list_tools(mcp.user_id, live_only=False)}
    assert _get(mcp, f"/api/mcp/servers/{mcp.user_id}").json()["servers"]
