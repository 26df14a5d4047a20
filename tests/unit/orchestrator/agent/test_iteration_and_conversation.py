"""One iteration's sink rebuilds the turn from any chunking; the next request carries the tool round; the loop
runs MCP calls only when every tool_use is one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from switchboard.common.errors import UpstreamUnavailableError
from switchboard.common.tool_events import McpTool
from switchboard.orchestrator.agents.agent_config import Agent
from switchboard.orchestrator.agents.broker_client import PendingCall
from switchboard.orchestrator.agents.conversation import Conversation
from switchboard.orchestrator.agents.iteration import IterationSink
from switchboard.orchestrator.agents.loop import mcp_calls
from switchboard.orchestrator.agents.tool_catalog import ToolCatalog
from unit.orchestrator.agent.agent_events import message_end, message_start, ping, raw, text_block, tool_block

CATALOG = ToolCatalog([McpTool(server_id="fs", name="read")], ["*"])


class RecordingReply:
    """A ClientReply that only remembers what it was told."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.started_with: Mapping[str, str] | None = None
        self.flushes = 0

    async def started(self, headers: Mapping[str, str]) -> None:
        self.started_with = headers

    def event(self, kind: str, payload: Mapping[str, Any] | None, raw: bytes) -> None:
        self.kinds.append(kind)

    async def flush(self) -> None:
        self.flushes += 1

    def iteration_done(self, message: Mapping[str, Any], blocks: list[dict[str, Any]]) -> None:
        raise AssertionError("the loop's call, not the sink's")

    async def finish(
        self, stop_reason: str | None, stop_sequence: str | None, usage: Mapping[str, int], notice: str | None = None
    ) -> None:
        raise AssertionError("the loop's call, not the sink's")

    async def stream_error(self, payload: Mapping[str, Any]) -> None:
        raise AssertionError("the loop's call, not the sink's")


async def feed(sink: IterationSink, stream: bytes, size: int) -> None:
    await sink.start_stream({"retry-after": "1"})
    for start in range(0, len(stream), size):
        await sink.stream_bytes(stream[start : start + size])
    await sink.finish_stream()


@pytest.mark.parametrize("size", [1, 7, 10_000])
async def test_the_sink_rebuilds_the_turn_whatever_the_chunking(size: int) -> None:
    events = [
        message_start("msg_a", cache_read_input_tokens=4),
        ping(),
        *text_block(0, "Calling ", "read."),
        *tool_block(1, "mcp__fs__read", '{"path": "/x"}'),
        *message_end("tool_use", output_tokens=9),
    ]
    reply = RecordingReply()
    sink = IterationSink(reply)
    await feed(sink, b"".join(raw(event) for event in events), size)

    assert reply.started_with == {"retry-after": "1"}
    assert reply.kinds == [name for name, _ in events]
    assert sink.message["id"] == "msg_a"
    assert sink.blocks[1]["input"] == {"path": "/x"}
    assert (sink.tracker.stop_reason, sink.stop_sequence) == ("tool_use", None)
    assert sink.tracker.tokens == {
        "input_tokens": 10,
        "output_tokens": 9,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 4,
    }


async def test_a_stream_without_message_stop_is_a_provider_fault() -> None:
    sink = IterationSink(RecordingReply())
    with pytest.raises(UpstreamUnavailableError):
        await feed(sink, raw(message_start()) + b"".join(raw(event) for event in text_block(0, "cut")), 50)


async def test_an_error_event_ends_the_iteration_without_a_fault() -> None:
    sink = IterationSink(RecordingReply())
    error = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    await feed(sink, raw(message_start()) + raw(error), 50)
    assert sink.error == error[1]


async def test_an_http_error_answer_is_kept_for_the_loop() -> None:
    sink = IterationSink(RecordingReply())
    await sink.upstream_error(529, {"retry-after": "2"}, b"{}")
    assert sink.failure is not None and (sink.failure.status, sink.failure.body) == (529, b"{}")


def conversation(payload: dict[str, Any], agent: Agent | None = None) -> Conversation:
    return Conversation(payload, agent or Agent("a"), CATALOG, "claude-sonnet-4-5")


def test_the_request_is_streamed_on_the_agent_model_with_mcp_tools_after_the_clients() -> None:
    client_tool = {"name": "get_weather", "input_schema": {"type": "object"}}
    payload = {"model": "switchboard-coder", "stream": False, "messages": [{"role": "user", "content": "hi"}],
               "tools": [client_tool], "max_tokens": 5}  # fmt: skip
    body = json.loads(conversation(payload).encoded())
    assert (body["model"], body["stream"], body["max_tokens"]) == ("claude-sonnet-4-5", True, 5)
    assert [tool["name"] for tool in body["tools"]] == ["get_weather", "mcp__fs__read"]
    assert payload["tools"] == [client_tool] and payload["stream"] is False, "the client's body is not changed"


CACHED = {"type": "text", "text": "Client.", "cache_control": {"type": "ephemeral"}}


@pytest.mark.parametrize(
    ("system", "expected"),
    [(None, "Agent."), ("Client.", "Agent.\n\nClient."), ([CACHED], [{"type": "text", "text": "Agent."}, CACHED])],
)
def test_the_agents_system_prompt_comes_first(system: Any, expected: Any) -> None:
    payload: dict[str, Any] = {"messages": []}
    if system is not None:
        payload["system"] = system
    body = json.loads(conversation(payload, Agent("a", system="Agent.")).encoded())
    assert body["system"] == expected


def test_a_tool_round_appends_the_assistant_turn_and_the_results() -> None:
    talk = conversation({"messages": [{"role": "user", "content": "hi"}]})
    turn: list[dict[str, Any]] = [
        {"type": "thinking", "thinking": "t", "signature": "s"},
        {"type": "text", "text": ""},
        {"type": "tool_use", "id": "toolu_1", "name": "mcp__fs__read", "input": {}},
    ]
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "x"}]}
    talk.add_round(turn, [result])
    messages = json.loads(talk.encoded())["messages"]
    assert messages[1:] == [
        {"role": "assistant", "content": [turn[0], turn[2]]},  # the empty text block is dropped
        {"role": "user", "content": [result]},
    ]


def test_a_prefilled_assistant_turn_and_its_continuation_are_one_turn() -> None:
    talk = conversation({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure,"}]})
    call = {"type": "tool_use", "id": "toolu_1", "name": "mcp__fs__read", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": []}
    talk.add_round([{"type": "text", "text": " reading."}, call], [result])
    messages = json.loads(talk.encoded())["messages"]
    assert [message["role"] for message in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [{"type": "text", "text": "Sure,"}, {"type": "text", "text": " reading."}, call]


@pytest.mark.parametrize(
    ("choice", "after"),
    [
        ({"type": "any"}, {"type": "auto"}),
        ({"type": "tool", "name": "mcp__fs__read", "disable_parallel_tool_use": True},
         {"type": "auto", "disable_parallel_tool_use": True}),
        ({"type": "auto"}, {"type": "auto"}),
        ({"type": "none"}, {"type": "none"}),
    ],
)  # fmt: skip
def test_a_forced_tool_choice_is_relaxed_after_the_first_round(choice: Any, after: Any) -> None:
    talk = conversation({"messages": [{"role": "user", "content": "hi"}], "tool_choice": choice})
    assert json.loads(talk.encoded())["tool_choice"] == choice
    talk.add_round([mcp_use("toolu_1")], [{"type": "tool_result", "tool_use_id": "toolu_1", "content": []}])
    assert json.loads(talk.encoded())["tool_choice"] == after


def mcp_use(tool_id: str, tool_input: Any = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": "mcp__fs__read", "input": tool_input or {"path": "/"}}


def test_mcp_calls_run_only_when_every_tool_use_is_one() -> None:
    text = {"type": "text", "text": "Calling."}
    both = [text, mcp_use("toolu_1"), mcp_use("toolu_2", [1])]
    assert mcp_calls(both, "tool_use", CATALOG) == [
        PendingCall("toolu_1", "fs", "read", {"path": "/"}),
        PendingCall("toolu_2", "fs", "read", {}),
    ]
    client = {"type": "tool_use", "id": "toolu_3", "name": "get_weather", "input": {}}
    assert mcp_calls([*both, client], "tool_use", CATALOG) is None
    assert mcp_calls([text, mcp_use("toolu_1")], "max_tokens", CATALOG) is None
    assert mcp_calls([text], "tool_use", CATALOG) is None
