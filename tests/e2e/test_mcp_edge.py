"""Connectors reach the tool-broker through the gateway's own URL, and any broker replica may hold them."""

from __future__ import annotations

import json
import re
from typing import Any

import anthropic
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from support.connectors import NOTES_SERVER
from support.mcp_agents import MODEL, connector
from support.stack import Stack


def ws_url(base_url: str, user_id: str) -> str:
    return base_url.replace("http://", "ws://") + f"/api/mcp/ws/{user_id}"


async def refused_upgrade(url: str, key: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body a refused WebSocket upgrade answered with."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, additional_headers={"x-api-key": key}, open_timeout=10):
            pass
    response = refused.value.response
    body: dict[str, Any] = json.loads(response.body or b"null")
    return response.status_code, body


def test_connector_endpoints_share_the_gateways_url(mcp_stack: Stack) -> None:
    answer = httpx.get(f"{mcp_stack.base_url}/api/mcp/status", headers={"x-api-key": mcp_stack.api_key})
    assert answer.status_code == 200
    assert answer.json()["user_id"] == mcp_stack.user_id
    assert answer.headers["request-id"].startswith("req_")


async def test_refused_upgrades_keep_the_brokers_anthropic_shaped_answer(mcp_stack: Stack) -> None:
    status, bogus = await refused_upgrade(ws_url(mcp_stack.base_url, mcp_stack.user_id), "sk-ant-uc-not-a-real-key")
    assert status == 401 and bogus["error"]["type"] == "authentication_error"
    status, someone_else = await refused_upgrade(ws_url(mcp_stack.base_url, "mallory"), mcp_stack.api_key)
    assert status == 403 and someone_else["error"]["type"] == "permission_error"
    for body in (bogus, someone_else):
        assert body["type"] == "error" and body["request_id"].startswith("req_")


def add_one(n: int) -> str:
    return f'[[fake:agent_calls=mcp__far__add]] [[fake:tool_input={{"a": {n}, "b": 1}}]]'


def test_a_connector_on_a_second_broker_serves_calls_that_arrive_at_either(mcp_stack: Stack) -> None:
    second_broker = mcp_stack.add_tool_broker()
    far = connector(mcp_stack, "far", NOTES_SERVER, base_url=second_broker)
    client = anthropic.Anthropic(
        base_url=mcp_stack.base_url, api_key=mcp_stack.api_key, default_headers={"x-switchboard-agent": "default"}
    )
    try:
        far.wait_registered()
        answers = [
            client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": add_one(n)}])
            for n in range(8)
        ]
    finally:
        far.stop()
        client.close()
    assert [getattr(answer.content[-1], "text", None) for answer in answers] == [f"Results: {n + 1}" for n in range(8)]


def test_without_a_reachable_broker_the_gateway_answers_529(private_stack: Stack) -> None:
    private_stack.extra_env = {"SWITCHBOARD_TOOL_BROKER_URL": "http://127.0.0.1:9"}  # nothing listens there
    private_stack.start(orchestrators=0)
    answer = httpx.get(f"{private_stack.base_url}/api/mcp/status", headers={"x-api-key": private_stack.api_key})
    assert answer.status_code == 529
    body = answer.json()
    assert body["error"] == {"type": "overloaded_error", "message": "The tool-broker is unavailable; try again."}
    assert re.fullmatch(r"req_\w+", body["request_id"]) and json.dumps(body).count("127.0.0.1") == 0
