"""What the dashboard reads from metering: MCP tool-call figures in the usage, and the administrators' routes
``/api/v1/metering/status`` and ``/api/v1/metering/dead-letters``, through the real stack and a fake Lago."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.anthropic_provider import FakeAnthropic
from fakes.lago import FakeLago
from support.connectors import NOTES_SERVER, ConnectorProcess
from support.mcp_agents import MODEL, connector, mcp_routing_config
from support.metering import metering_env
from support.processes import wait_until
from support.stack import Stack
from switchboard.cli.embedded_nats import EmbeddedNats

STATUS_FIELDS = {
    "schema_version", "pending", "oldest_unbilled_at", "lag_seconds", "lago_reachable", "dead_letters", "occurred_at",
}  # fmt: skip
ITEM_FIELDS = {"sequence", "request_id", "user_id", "model", "reason", "lago_status", "occurred_at"}


@pytest.fixture(scope="module")
def lago() -> Iterator[FakeLago]:
    with FakeLago() as fake:
        yield fake


@pytest.fixture(scope="module")
def billed(
    tmp_path_factory: pytest.TempPathFactory, nats_server: EmbeddedNats, fake_anthropic: FakeAnthropic, lago: FakeLago
) -> Iterator[Stack]:
    """Gateway, orchestrator, tool-broker with a notes connector, and metering billing the fake Lago."""
    stack = Stack(
        workdir=tmp_path_factory.mktemp("metering-admin"),
        nats_url=nats_server.url,
        fake=fake_anthropic,
        routing_config=mcp_routing_config(),
    )
    notes: ConnectorProcess | None = None
    try:
        stack.start(orchestrators=1)
        stack.add_tool_broker()
        stack.add_metering(**metering_env(lago, lago_timeout=2))
        notes = connector(stack, "notes", NOTES_SERVER)
        notes.wait_registered()
        wait_until(lambda: status(stack).status_code == httpx.codes.OK, timeout=30, what="metering answering")
        yield stack
    finally:
        if notes is not None:
            notes.stop()
        stack.stop()


def get(stack: Stack, path: str, key: str, **params: str) -> httpx.Response:
    return httpx.get(f"{stack.base_url}{path}", params=params, headers={"x-api-key": key}, timeout=10)


def status(stack: Stack, key: str | None = None) -> httpx.Response:
    return get(stack, "/api/v1/metering/status", key or stack.admin_key)


def dead_letters(stack: Stack, key: str | None = None, **params: str) -> httpx.Response:
    return get(stack, "/api/v1/metering/dead-letters", key or stack.admin_key, **params)


def totals(stack: Stack) -> dict[str, Any]:
    answer: dict[str, Any] = get(stack, "/api/v1/usage", stack.api_key).json()["totals"]
    return answer


def settled(stack: Stack) -> None:
    wait_until(lambda: status(stack).json()["pending"] == 0, timeout=30, what="nothing pending in metering")


def agent_request(stack: Stack, note: str) -> str:
    """An agent request whose one MCP call reads ``note`` (``nope`` is missing: the tool answers an error)."""
    text = f"[[fake:agent_calls=mcp__notes__read_note]] [[fake:tool_input={json.dumps({'name': note})}]]"
    body = {"model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": text}]}
    headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01", "x-switchboard-agent": "default"}
    answer = httpx.post(f"{stack.base_url}/v1/messages", json=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.headers["request-id"]


def test_usage_counts_mcp_tool_calls_and_their_errors(billed: Stack) -> None:
    settled(billed)
    before = totals(billed)
    agent_request(billed, "groceries")
    agent_request(billed, "nope")
    wait_until(lambda: totals(billed)["requests"] == before["requests"] + 2, timeout=30, what="both in the ledger")
    after = totals(billed)
    assert after["mcp_tool_calls"] - before["mcp_tool_calls"] == 2
    assert after["mcp_tool_errors"] - before["mcp_tool_errors"] == 1
    assert after["tool_calls"] - before["tool_calls"] == 2, "tool_calls still includes the MCP calls"
    today = get(billed, "/api/v1/usage", billed.api_key).json()["by_model"]
    assert {"mcp_tool_calls", "mcp_tool_errors"} <= {key for model in today for key in model}


def test_administrators_read_the_metering_status(billed: Stack) -> None:
    answer = status(billed)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == STATUS_FIELDS
    assert body["lago_reachable"] is True and isinstance(body["pending"], int)


def test_a_refused_completion_is_listed_as_a_dead_letter(billed: Stack, lago: FakeLago) -> None:
    settled(billed)
    already = dead_letters(billed).json()["total"]
    lago.fail_next(1, status=400)  # a permanent refusal of the next batch, which holds only this request
    request_id = agent_request(billed, "groceries")
    wait_until(lambda: dead_letters(billed).json()["total"] == already + 1, timeout=30, what="the dead letter")
    listed = dead_letters(billed, limit="1").json()
    assert set(listed) == {"schema_version", "total", "items"} and listed["total"] == already + 1
    (item,) = listed["items"]
    assert set(item) == ITEM_FIELDS
    assert (item["request_id"], item["user_id"], item["model"], item["lago_status"]) == (
        request_id, billed.user_id, MODEL, 400,
    )  # fmt: skip
    assert item["reason"] and item["sequence"] >= 1
    assert status(billed).json()["dead_letters"] == already + 1
    assert dead_letters(billed, user_id=billed.user_id).json()["items"][0]["request_id"] == request_id
    assert dead_letters(billed, user_id="operator").json() == {"schema_version": 1, "total": 0, "items": []}


@pytest.mark.parametrize("path", ["/api/v1/metering/status", "/api/v1/metering/dead-letters"])
def test_other_users_are_refused(billed: Stack, path: str) -> None:
    answer = get(billed, path, billed.api_key)
    assert answer.status_code == 403
    body = answer.json()
    assert body["type"] == "error" and body["error"]["type"] == "permission_error"
    assert body["request_id"] == answer.headers["request-id"]
    assert get(billed, path, "sk-not-a-key").status_code == 401


@pytest.mark.parametrize("limit", ["0", "501", "ten", "-3"])
def test_a_bad_limit_is_400(billed: Stack, limit: str) -> None:
    answer = dead_letters(billed, limit=limit)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"].startswith("limit: expected an integer")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/metering/status", "Metering status is unavailable: no metering service is running."),
        ("/api/v1/metering/dead-letters", "Dead letters are unavailable: no metering service is running."),
    ],
)
def test_without_metering_the_answer_is_529(stack: Stack, path: str, message: str) -> None:
    answer = get(stack, path, stack.admin_key)
    assert answer.status_code == 529
    assert answer.json()["error"] == {"type": "overloaded_error", "message": message}
    assert get(stack, path, stack.api_key).status_code == 403, "who asks is checked before metering is"
