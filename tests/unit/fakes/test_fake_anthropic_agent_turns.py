"""`[[fake:agent_calls=...]]` scripts a model running a tool loop: one call per turn, then a report of the results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from fakes.anthropic_directives import directive_text, parse_directives
from fakes.anthropic_provider import FakeAnthropic
from fakes.anthropic_scripts import plan_reply

API_KEY = "sk-ant-fake-upstream"
TOOLS = [
    {"name": "mcp__notes__read_note", "input_schema": {"type": "object"}},
    {"name": "add", "input_schema": {"type": "object"}},
]


def reply_to(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = TOOLS) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "m", "max_tokens": 64, "messages": messages}
    if tools is not None:
        body["tools"] = tools
    reply = plan_reply(body, parse_directives(directive_text(body), ""))
    return {"blocks": list(reply.blocks), "stop_reason": reply.stop_reason}


def tool_round(name: str, result: str | list[dict[str, Any]], *, is_error: bool = False) -> list[dict[str, Any]]:
    call = {"type": "tool_use", "id": f"toolu_{name}", "name": name, "input": {}}
    answer: dict[str, Any] = {"type": "tool_result", "tool_use_id": f"toolu_{name}", "content": result}
    if is_error:
        answer["is_error"] = True
    return [{"role": "assistant", "content": [call]}, {"role": "user", "content": [answer]}]


def test_the_first_turn_calls_the_first_tool_by_its_suffix() -> None:
    reply = reply_to([{"role": "user", "content": '[[fake:agent_calls=read_note, add]] [[fake:tool_input={"n": 1}]]'}])
    text, call = reply["blocks"]
    assert text == {"type": "text", "text": "Calling read_note."}
    assert (call["type"], call["name"], call["input"]) == ("tool_use", "mcp__notes__read_note", {"n": 1})
    assert call["id"].startswith("toolu_")
    assert reply["stop_reason"] == "tool_use"


def test_each_tool_turn_moves_to_the_next_name_and_an_exact_name_matches() -> None:
    messages = [{"role": "user", "content": "[[fake:agent_calls=read_note,add]]"}, *tool_round("x", "one")]
    _, call = reply_to(messages)["blocks"]
    assert (call["name"], call["input"]) == ("add", {})


def test_after_the_list_the_results_are_reported_in_order_errors_marked() -> None:
    messages = [
        {"role": "user", "content": "[[fake:agent_calls=a,b]]"},
        *tool_round("a", [{"type": "text", "text": "first"}]),
        *tool_round("b", "boom", is_error=True),
    ]
    reply = reply_to(messages)
    assert reply["blocks"] == [{"type": "text", "text": "Results: first | ERROR: boom"}]
    assert reply["stop_reason"] == "end_turn"


def test_a_tool_that_is_not_offered_is_said_so() -> None:
    reply = reply_to([{"role": "user", "content": "[[fake:agent_calls=missing]]"}], tools=None)
    assert reply["blocks"] == [{"type": "text", "text": "tool missing not offered"}]
    assert reply["stop_reason"] == "end_turn"


def test_forever_calls_the_same_tool_every_turn() -> None:
    messages = [{"role": "user", "content": "[[fake:agent_calls_forever=add]]"}, *tool_round("add", "1") * 3]
    _, call = reply_to(messages)["blocks"]
    assert call["name"] == "add"


def test_thinking_still_comes_first() -> None:
    blocks = reply_to([{"role": "user", "content": "[[fake:thinking]] [[fake:agent_calls=add]]"}])["blocks"]
    assert [block["type"] for block in blocks] == ["thinking", "text", "tool_use"]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as server:
        yield server


def test_the_tool_call_streams_like_any_tool_use(fake: FakeAnthropic) -> None:
    prompt = '[[fake:agent_calls=read]] [[fake:tool_input={"p": "/x"}]]'
    tools: list[anthropic.types.ToolParam] = [{"name": "mcp__fs__read", "input_schema": {"type": "object"}}]
    with (
        anthropic.Anthropic(api_key=API_KEY, base_url=fake.url, max_retries=0) as client,
        client.messages.stream(
            model="claude-fake-model", max_tokens=64, tools=tools, messages=[{"role": "user", "content": prompt}]
        ) as stream,
    ):
        message = stream.get_final_message()
    assert [block.type for block in message.content] == ["text", "tool_use"]
    call = message.content[1]
    assert call.type == "tool_use" and (call.name, call.input) == ("mcp__fs__read", {"p": "/x"})
    assert message.stop_reason == "tool_use"
