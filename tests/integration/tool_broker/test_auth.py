"""Who may do what: credentials checked by the gateway over NATS, own-user only, revoked keys cut off at once."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from integration.tool_broker.broker_harness import BrokerStack, Connector, mint_key, ws_url
from support.processes import ServiceProcess, wait_until
from switchboard.cli.embedded_nats import free_port


def assert_anthropic_error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type
    assert body["request_id"] == response.headers["request-id"] and body["request_id"].startswith("req_")
    return body


async def refused_upgrade(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, additional_headers=headers):
            pass
    response = refused.value.response
    return response.status_code, json.loads(response.body or b"{}")


def test_http_needs_a_valid_credential(mcp: BrokerStack) -> None:
    status = f"{mcp.broker_url}/api/mcp/status"
    assert_anthropic_error(httpx.get(status, timeout=10), 401, "authentication_error")
    invalid = httpx.get(status, headers={"x-api-key": "sk-ant-uc-" + "x" * 43}, timeout=10)
    assert assert_anthropic_error(invalid, 401, "authentication_error")["error"]["message"] == "invalid x-api-key"
    bearer = httpx.get(status, headers={"authorization": f"Bearer {mcp.key}"}, timeout=10)
    assert bearer.status_code == 200 and bearer.json()["user_id"] == mcp.user_id
    assert httpx.get(f"{mcp.broker_url}/api/mcp/health", timeout=10).json()["status"] == "ok"


async def test_a_websocket_upgrade_needs_the_callers_own_user(mcp: BrokerStack) -> None:
    url = ws_url(mcp.broker_url, mcp.user_id)
    assert (await refused_upgrade(url, {}))[0] == 401
    status, body = await refused_upgrade(url, {"x-api-key": "wrong"})
    assert status == 401 and body["error"]["type"] == "authentication_error"
    status, body = await refused_upgrade(ws_url(mcp.broker_url, "mallory"), {"x-api-key": mcp.key})
    assert status == 403 and body["error"]["type"] == "permission_error" and body["request_id"].startswith("req_")
    # Administrators too: a connector acts only for its own user.
    assert (await refused_upgrade(url, {"x-api-key": mcp.stack.admin_key}))[0] == 403


def test_http_acts_only_for_the_callers_own_user(mcp: BrokerStack) -> None:
    for key in (mcp.key, mcp.stack.admin_key):
        headers = {"x-api-key": key}
        servers = httpx.get(f"{mcp.broker_url}/api/mcp/servers/mallory", headers=headers, timeout=10)
        assert_anthropic_error(servers, 403, "permission_error")
        register = httpx.post(f"{mcp.broker_url}/api/mcp/register", headers=headers, timeout=10,
                              json={"user_id": "mallory", "server_id": "x", "tools": ["t"]})  # fmt: skip
        assert_anthropic_error(register, 403, "permission_error")


def test_bodies_and_paths_are_checked(mcp: BrokerStack) -> None:
    headers = {"x-api-key": mcp.key, "content-type": "application/json"}
    register = f"{mcp.broker_url}/api/mcp/register"
    broken = httpx.post(register, headers=headers, content=b"{oops", timeout=10)
    assert assert_anthropic_error(broken, 400, "invalid_request_error")["error"]["message"] == (
        "The request body is not valid JSON."
    )
    missing = httpx.post(register, headers=headers, json={"server_id": "x"}, timeout=10)
    assert assert_anthropic_error(missing, 400, "invalid_request_error")["error"]["message"] == (
        "user_id: Field required"
    )
    wait = httpx.post(f"{mcp.broker_url}/api/mcp/poll", headers=headers, json={"user_id": "x", "wait": 99}, timeout=10)
    assert "wait" in assert_anthropic_error(wait, 400, "invalid_request_error")["error"]["message"]
    assert_anthropic_error(httpx.get(f"{mcp.broker_url}/api/mcp/nowhere", timeout=10), 404, "not_found_error")
    assert_anthropic_error(httpx.delete(f"{mcp.broker_url}/api/mcp/status", timeout=10), 405, "invalid_request_error")


async def test_revoking_a_key_closes_its_connections(mcp: BrokerStack) -> None:
    user_id = "dave"
    key, key_id = await mint_key(mcp.stack, user_id)
    other_key, _ = await mint_key(mcp.stack, user_id)
    async with (
        Connector.open(mcp.broker_url, key, user_id) as revoked,
        Connector.open(mcp.broker_url, other_key, user_id) as unaffected,
        httpx.AsyncClient(timeout=10) as http,
    ):
        await revoked.register("doomed")
        await unaffected.register("kept")
        answer = await http.delete(
            f"{mcp.stack.base_url}/api/v1/api-keys/{key_id}", headers={"x-api-key": mcp.stack.admin_key}
        )
        assert answer.status_code == 204
        assert await revoked.closed() == 4401
        after = await http.get(f"{mcp.broker_url}/api/mcp/status", headers={"x-api-key": key})
        assert after.status_code == 401  # the cached verdict was dropped with the key
        await unaffected.send({"type": "ping"})
        assert (await unaffected.expect("pong"))["type"] == "pong"


def test_no_key_authority_means_overloaded(tmp_path: Path, nats_url: str, mcp: BrokerStack) -> None:
    """A broker whose prefix has no gateway cannot verify anyone: 529, not 401 (the key may well be valid)."""
    port = free_port()
    env = {"NATS_URL": nats_url, "SWITCHBOARD_SUBJECT_PREFIX": f"sbt{secrets.token_hex(4)}",
           "SWITCHBOARD_TOOL_BROKER_PORT": str(port)}  # fmt: skip
    process = ServiceProcess("tool_broker", env, tmp_path / "lonely-broker.log")
    process.start()
    try:
        url = f"http://127.0.0.1:{port}/api/mcp"
        wait_until(lambda: _answers(f"{url}/health"), timeout=30, what="the lonely broker")
        answer = httpx.get(f"{url}/status", headers={"x-api-key": mcp.key}, timeout=10)
        assert assert_anthropic_error(answer, 529, "overloaded_error")["error"]["message"] == (
            "The tool-broker cannot verify credentials right now; try again."
        )
    finally:
        assert process.stop() == 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
