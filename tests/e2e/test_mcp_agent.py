"""Agent mode end to end: the anthropic SDK → gateway → orchestrator → tool-broker → ``switchboard connect`` → a
real MCP server on "the user's machine", and back. Every part is a real process on real sockets.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from support.connectors import NOTES_SERVER, ConnectorProcess, live_connections
from support.mcp_agents import MODEL, connector
from support.mcp_filesystem import filesystem_server_command
from support.processes import wait_until
from support.stack import Stack
from support.usage_stream import recorded_completions


@pytest.fixture(scope="module")
def notes(mcp_stack: Stack) -> Iterator[ConnectorProcess]:
    process = connector(mcp_stack, "notes", NOTES_SERVER)
    try:
        process.wait_registered()
        yield process
    finally:
        process.stop()


_CLIENTS: dict[tuple[str, str | None], anthropic.Anthropic] = {}


def client(stack: Stack, agent: str | None = "default") -> anthropic.Anthropic:
    """One SDK client per agent header, closed when the module is done."""
    if (stack.base_url, agent) not in _CLIENTS:
        headers = {"x-switchboard-agent": agent} if agent else {}
        _CLIENTS[stack.base_url, agent] = anthropic.Anthropic(
            base_url=stack.base_url, api_key=stack.api_key, default_headers=headers, max_retries=0
        )
    return _CLIENTS[stack.base_url, agent]


@pytest.fixture(scope="module", autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    for sdk in _CLIENTS.values():
        sdk.close()
    _CLIENTS.clear()


def prompt(calls: str, tool_input: dict[str, Any] | None = None) -> list[anthropic.types.MessageParam]:
    text = f"[[fake:agent_calls={calls}]]"
    if tool_input is not None:
        text += f" [[fake:tool_input={json.dumps(tool_input)}]]"
    return [{"role": "user", "content": text}]


def texts(message: anthropic.types.Message) -> list[str]:
    return [block.text for block in message.content if block.type == "text"]


def test_an_agent_request_runs_the_users_mcp_tool_and_answers(mcp_stack: Stack, notes: ConnectorProcess) -> None:
    raw = client(mcp_stack).messages.with_raw_response.create(
        model=MODEL, max_tokens=256, messages=prompt("mcp__notes__read_note", {"name": "groceries"})
    )
    message = raw.parse()
    assert texts(message) == ["Calling mcp__notes__read_note.", "Results: note groceries: milk, eggs"]
    assert message.stop_reason == "end_turn"
    assert all(block.type == "text" for block in message.content), "MCP tool_use blocks stay server-side"
    (event,) = recorded_completions(mcp_stack.nats_url, mcp_stack.prefix, raw.headers["request-id"])
    assert event.agent == "default" and event.agent_iterations == 2
    assert [(call.server_id, call.name, call.is_error) for call in event.mcp_tool_calls] == [
        ("notes", "read_note", False)
    ]
    assert event.input_tokens == message.usage.input_tokens
    assert event.output_tokens == message.usage.output_tokens
    assert event.tool_use_count == 0


def test_streaming_clients_see_the_text_of_every_iteration(mcp_stack: Stack, notes: ConnectorProcess) -> None:
    with client(mcp_stack).messages.stream(
        model=MODEL, max_tokens=256, messages=prompt("mcp__notes__add", {"a": 2, "b": 40})
    ) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == "Calling mcp__notes__add.Results: 42"
    assert texts(final) == ["Calling mcp__notes__add.", "Results: 42"]
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


def test_a_model_alias_selects_the_agent_without_a_header(mcp_stack: Stack, notes: ConnectorProcess) -> None:
    message = client(mcp_stack, agent=None).messages.create(
        model="switchboard-notes", max_tokens=256, messages=prompt("mcp__notes__read_note", {"name": "todo"})
    )
    assert texts(message)[-1] == "Results: note todo: ship it"


def test_agent_aliases_are_listed_as_models(mcp_stack: Stack) -> None:
    listed = {model.id: model for model in client(mcp_stack, agent=None).models.list()}
    assert listed["switchboard-notes"].display_name == f"switchboard-notes (agent notes-agent on {MODEL})"


def test_a_tool_error_reaches_the_model_as_an_error_result(mcp_stack: Stack, notes: ConnectorProcess) -> None:
    message = client(mcp_stack).messages.create(
        model=MODEL, max_tokens=256, messages=prompt("mcp__notes__read_note", {"name": "nope"})
    )
    assert texts(message)[-1].startswith("Results: ERROR: ")


def test_invalid_input_is_refused_before_it_reaches_the_connector(mcp_stack: Stack, notes: ConnectorProcess) -> None:
    message = client(mcp_stack).messages.create(
        model=MODEL, max_tokens=256, messages=prompt("mcp__notes__add", {"a": "two", "b": 40})
    )
    result = texts(message)[-1]
    assert result.startswith("Results: ERROR: ") and "'two' is not of type 'integer'" in result


def test_a_polling_connector_serves_calls_too(mcp_stack: Stack, tmp_path: Path) -> None:
    poller = connector(mcp_stack, "notes-poll", NOTES_SERVER, poll=True)
    try:
        poller.wait_registered()
        message = client(mcp_stack).messages.create(
            model=MODEL, max_tokens=256, messages=prompt("mcp__notes-poll__add", {"a": 1, "b": 2})
        )
    finally:
        poller.stop()
    assert texts(message)[-1] == "Results: 3"


def test_the_reference_filesystem_server_through_npx(mcp_stack: Stack, tmp_path: Path) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    (root / "hello.txt").write_text("hello from the user's disk")
    command = filesystem_server_command(root)
    if command is None:
        pytest.skip("Node.js (npx) is not installed")
    files = connector(mcp_stack, "fs", command)
    try:
        files.wait_registered(timeout=60)
        inside = client(mcp_stack).messages.create(
            model=MODEL, max_tokens=256,
            messages=prompt("mcp__fs__read_text_file", {"path": str(root / "hello.txt")}),
        )  # fmt: skip
        outside = client(mcp_stack).messages.create(
            model=MODEL, max_tokens=256, messages=prompt("mcp__fs__read_text_file", {"path": "/etc/hostname"})
        )
    finally:
        files.stop()
    assert texts(inside)[-1] == "Results: hello from the user's disk"
    assert texts(outside)[-1].startswith("Results: ERROR: ") and "Access denied" in texts(outside)[-1]


def test_a_tool_that_does_not_answer_in_time_gives_an_error_result(mcp_stack: Stack, notes: ConnectorProcess) -> None:
    started = time.monotonic()
    message = client(mcp_stack, agent="impatient").messages.create(
        model=MODEL, max_tokens=256, messages=prompt("mcp__notes__slow_echo", {"text": "late", "seconds": 5})
    )
    assert time.monotonic() - started < 5
    assert texts(message)[-1].startswith("Results: ERROR: ") and "did not answer within 1" in texts(message)[-1]


class _Request(threading.Thread):
    """An agent request running in the background while the test kills things."""

    def __init__(self, stack: Stack, calls: str, tool_input: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self._client = client(stack)
        self._messages = prompt(calls, tool_input)
        self.message: anthropic.types.Message | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.message = self._client.messages.create(model=MODEL, max_tokens=256, messages=self._messages)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def answer(self, timeout: float) -> anthropic.types.Message:
        self.join(timeout)
        assert not self.is_alive(), "the request never finished"
        if self.error is not None:
            raise self.error
        assert self.message is not None
        return self.message


def _holder(stack: Stack, server_id: str, connectors: list[ConnectorProcess]) -> ConnectorProcess:
    """The connector process whose connection has the call in flight (matched by its logged connection id)."""

    def busy() -> bool:
        return any(c["inflight"] > 0 for c in live_connections(stack.base_url, stack.api_key, server_id))

    wait_until(busy, timeout=10, what="the call to reach a connector")
    (connection,) = [c for c in live_connections(stack.base_url, stack.api_key, server_id) if c["inflight"] > 0]
    (holder,) = [process for process in connectors if connection["connection_id"] in process.log()]
    return holder


def test_a_connector_killed_mid_call_has_its_call_finished_by_another(mcp_stack: Stack) -> None:
    pair = [connector(mcp_stack, "relay", NOTES_SERVER) for _ in range(2)]
    try:
        pair[0].wait_registered(count=2)
        request = _Request(mcp_stack, "mcp__relay__slow_echo", {"text": "survived", "seconds": 2})
        request.start()
        _holder(mcp_stack, "relay", pair).kill()
        message = request.answer(timeout=30)
    finally:
        for process in pair:
            process.stop()
    assert texts(message)[-1] == "Results: survived"


def test_a_connector_killed_mid_call_with_no_other_fails_the_call_cleanly(mcp_stack: Stack) -> None:
    lone = connector(mcp_stack, "lone", NOTES_SERVER)
    try:
        lone.wait_registered()
        request = _Request(mcp_stack, "mcp__lone__slow_echo", {"text": "never", "seconds": 30})
        request.start()
        _holder(mcp_stack, "lone", [lone]).kill()
        started = time.monotonic()
        message = request.answer(timeout=30)
    finally:
        lone.stop()
    assert time.monotonic() - started < 10, "the failure is reported when the connector drops, not at the timeout"
    result = texts(message)[-1]
    assert result.startswith("Results: ERROR: ") and "disconnected" in result
