"""The demo model's answers follow Anthropic's wire format, and say plainly that they come from a demo."""

from __future__ import annotations

import json
from typing import Any

from switchboard.common.anthropic import Message
from switchboard.orchestrator.providers.demo_script import message_json, plan_reply, sse_events
from switchboard.orchestrator.sse import event_fields
from switchboard.orchestrator.token_estimate import estimate_input_tokens

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "units": {"type": "string"}},
        "required": ["city", "days"],
    },
}


def body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "demo", "max_tokens": 100, "messages": [{"role": "user", "content": text}], **extra}


def decoded(events: list[str]) -> list[dict[str, Any]]:
    payloads = []
    for event in events:
        name, data = event_fields(event)
        payload = json.loads(data)
        assert name == payload["type"]  # every event is named after its type
        payloads.append(payload)
    return payloads


def test_text_reply_echoes_the_user_and_never_claims_to_be_claude() -> None:
    request = body("x" * 300)
    message = Message.model_validate_json(message_json(plan_reply(request)))
    assert message.model == "demo"
    text = message.content[0].text  # type: ignore[union-attr]
    assert text == "This is Switchboard's offline demo model. You said: " + "x" * 200
    assert message.stop_reason == "end_turn"
    assert "stop_sequence" in json.loads(message_json(plan_reply(request)))
    assert message.usage.input_tokens == estimate_input_tokens(request)


def test_stream_is_a_faithful_event_sequence() -> None:
    request = body([{"type": "text", "text": "hello there, streaming world"}])  # type: ignore[arg-type]
    payloads = decoded(sse_events(plan_reply(request)))
    kinds = [payload["type"] for payload in payloads]
    assert kinds[:3] == ["message_start", "content_block_start", "ping"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [p["delta"]["text"] for p in payloads if p["type"] == "content_block_delta"]
    assert len(deltas) > 2
    assert "".join(deltas) == "This is Switchboard's offline demo model. You said: hello there, streaming world"
    start = payloads[0]["message"]
    assert start["usage"]["input_tokens"] == estimate_input_tokens(request) > 0
    assert start["stop_reason"] is None
    assert payloads[-2]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert payloads[-2]["usage"]["output_tokens"] > 1


def test_tool_word_with_tools_calls_the_first_tool() -> None:
    request = body("please use the tool", tools=[WEATHER_TOOL, {"name": "other", "input_schema": {}}])
    reply = plan_reply(request)
    message = json.loads(message_json(reply))
    assert message["stop_reason"] == "tool_use"
    assert message["content"][0]["name"] == "get_weather"
    assert message["content"][0]["input"] == {"city": "demo", "days": 0}
    payloads = decoded(sse_events(reply))
    start = next(p for p in payloads if p["type"] == "content_block_start")
    assert start["content_block"]["input"] == {}
    fragments = [p["delta"]["partial_json"] for p in payloads if p["type"] == "content_block_delta"]
    assert fragments[0] == ""
    assert json.loads("".join(fragments)) == {"city": "demo", "days": 0}


def test_tool_word_without_tools_or_tools_without_the_word_gives_text() -> None:
    assert plan_reply(body("use a tool")).block["type"] == "text"
    assert plan_reply(body("toolbox and tooling", tools=[WEATHER_TOOL])).block["type"] == "text"


def test_estimate_is_never_zero() -> None:
    assert estimate_input_tokens({}) >= 1
    assert estimate_input_tokens(body("a" * 4000)) > 1000


def test_a_tool_result_is_acknowledged_instead_of_calling_the_tool_again() -> None:
    messages = [
        {"role": "user", "content": "use a tool"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny"}]},
        ]},
    ]  # fmt: skip
    reply = plan_reply({"model": "demo", "max_tokens": 100, "messages": messages, "tools": [WEATHER_TOOL]})
    assert reply.stop_reason == "end_turn"
    assert reply.block == {"type": "text", "text": "This is Switchboard's offline demo model. The tool answered: sunny"}
    as_string = [
        *messages[:2],
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "22C"}]},
    ]
    assert plan_reply({"messages": as_string, "tools": [WEATHER_TOOL]}).block["text"].endswith("answered: 22C")
