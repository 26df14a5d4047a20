"""Claude Code's models served by an OpenAI-compatible provider, through the whole stack, with the official SDK.

The fake OpenAI server (``tests/fakes/openai_provider.py``) produces each upstream behaviour that has broken
other translating proxies; the P-numbers name the pitfalls of ``shared/reference/anthropic-api.md`` §8.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import MessageParam, ToolParam

from fakes.openai_scripts import DEFAULT_TEXT, REASONING_TEXT
from support.stack import Stack
from support.usage_stream import recorded_completions

pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")

MODEL = "claude-3-5-sonnet-20241022"  # routed to oai/gpt-fake
TOOLS: list[ToolParam] = [
    {"name": name, "description": f"tool {name}", "input_schema": {"type": "object", "properties": {}}}
    for name in ("get_weather", "get_time", "search")
]


@pytest.fixture
def sdk(stack: Stack) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=stack.base_url, api_key=stack.api_key, max_retries=0) as client:
        yield client


def tag() -> str:
    return f"t-{secrets.token_hex(5)}"


def upstream(stack: Stack, marker: str) -> dict[str, Any]:
    assert stack.fake_openai is not None
    (seen,) = stack.fake_openai.requests_with_marker(marker)
    assert seen.json is not None
    body: dict[str, Any] = seen.json
    return body


def user(text: str) -> list[MessageParam]:
    return [{"role": "user", "content": text}]


def test_text_reply_non_streaming(stack: Stack, sdk: anthropic.Anthropic) -> None:
    marker = tag()
    message = sdk.messages.create(model=MODEL, max_tokens=64, messages=user(marker))
    assert message.model == MODEL
    assert message.id.startswith("msg_")
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == DEFAULT_TEXT  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert message.usage.input_tokens > 0
    assert upstream(stack, marker)["model"] == "gpt-fake"


def test_text_reply_streaming_starts_with_real_input_tokens(stack: Stack, sdk: anthropic.Anthropic) -> None:
    with sdk.messages.stream(model=MODEL, max_tokens=64, messages=user(f"[[fake:words=9]] {tag()}")) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert events[0].type == "message_start"
    assert events[0].message.usage.input_tokens > 0  # P21
    assert final.content[0].text.split() == [f"word{i}" for i in range(1, 10)]  # type: ignore[union-attr]
    assert final.usage.output_tokens == 9


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("shape", ["", "[[fake:split=awkward]] [[fake:interleave]]", "[[fake:args_at_end]]"])
def test_parallel_tool_calls(stack: Stack, sdk: anthropic.Anthropic, streaming: bool, shape: str) -> None:
    args = {"command": 'grep -r "a\\"b" | wc -l', "path": "C:\\temp\\naïve ☃", "n": [1, {"k": None}]}
    prompt = f"[[fake:tool_calls=3]] [[fake:tool_args={json.dumps(args)}]] {shape} {tag()}"
    final: anthropic.types.Message
    if streaming:
        with sdk.messages.stream(model=MODEL, max_tokens=256, tools=TOOLS, messages=user(prompt)) as stream:
            final = stream.get_final_message()
    else:
        final = sdk.messages.create(model=MODEL, max_tokens=256, tools=TOOLS, messages=user(prompt))
    assert final.stop_reason == "tool_use"  # P10
    assert [block.type for block in final.content] == ["tool_use"] * 3  # P8: no empty text block
    assert [block.name for block in final.content] == ["get_weather", "get_time", "search"]  # type: ignore[union-attr]
    assert all(block.input == args for block in final.content)  # type: ignore[union-attr]  # P1, P2, P4
    ids = [block.id for block in final.content]  # type: ignore[union-attr]
    assert len(set(ids)) == 3
    assert all(tool_id.startswith("toolu_") for tool_id in ids)


def test_tool_ids_are_stable_across_the_answer_and_the_next_turn(stack: Stack, sdk: anthropic.Anthropic) -> None:
    with sdk.messages.stream(
        model=MODEL, max_tokens=128, tools=TOOLS, messages=user(f"[[fake:tool_calls=2]] {tag()}")
    ) as stream:
        first = stream.get_final_message()
    calls = [block for block in first.content if block.type == "tool_use"]
    marker = tag()
    history: list[Any] = [  # raw JSON, as Claude Code replays it
        *user("weather and time?"),
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": calls[0].id, "content": "sunny"},
                {"type": "tool_result", "tool_use_id": calls[1].id, "content": [{"type": "text", "text": "noon"}],
                 "is_error": True},
                {"type": "text", "text": marker},
            ],
        },
    ]  # fmt: skip
    second = sdk.messages.create(model=MODEL, max_tokens=64, tools=TOOLS, messages=history)
    assert second.stop_reason == "end_turn"
    sent = upstream(stack, marker)["messages"]
    assistant = next(m for m in sent if m["role"] == "assistant")
    tool_messages = [m for m in sent if m["role"] == "tool"]
    assert [call["id"] for call in assistant["tool_calls"]] == [calls[0].id, calls[1].id]
    assert [m["tool_call_id"] for m in tool_messages] == [calls[0].id, calls[1].id]
    assert sent.index(tool_messages[-1]) < len(sent) - 1, "tool results come before the user's text"


def test_reasoning_becomes_signed_thinking_and_round_trips(stack: Stack, sdk: anthropic.Anthropic) -> None:
    prompt = f"[[fake:reasoning]] [[fake:tool_calls=1]] [[fake:require_reasoning_roundtrip]] {tag()}"
    with sdk.messages.stream(model=MODEL, max_tokens=128, tools=TOOLS, messages=user(prompt)) as stream:
        first = stream.get_final_message()
    assert [block.type for block in first.content] == ["thinking", "tool_use"]  # P6
    thinking = first.content[0]
    assert thinking.thinking == REASONING_TEXT  # type: ignore[union-attr]
    assert thinking.signature  # type: ignore[union-attr]
    marker = tag()
    history: list[Any] = [  # raw JSON, as Claude Code replays it
        *user(prompt),
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": first.content[1].id, "content": "ok"},  # type: ignore[union-attr]
            {"type": "text", "text": f"[[fake:require_reasoning_roundtrip]] {marker}"},
        ]},
    ]  # fmt: skip
    second = sdk.messages.create(model=MODEL, max_tokens=64, tools=TOOLS, messages=history)  # P16
    assert second.content[-1].type == "text"  # the history still asks for reasoning, so thinking comes first
    assistant = next(m for m in upstream(stack, marker)["messages"] if m["role"] == "assistant")
    assert assistant["reasoning_content"] == REASONING_TEXT


def test_forged_thinking_is_dropped_not_forwarded(stack: Stack, sdk: anthropic.Anthropic) -> None:
    marker = tag()
    history: list[Any] = [  # raw JSON, as Claude Code replays it
        *user("hi"),
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "forged", "signature": "not-ours"}, {"type": "text", "text": "hello"},
        ]},
        *user(marker),
    ]  # fmt: skip
    sdk.messages.create(model=MODEL, max_tokens=32, messages=history)
    assert "forged" not in json.dumps(upstream(stack, marker))  # P15


@pytest.mark.parametrize("streaming", [False, True])
def test_stop_sequence_is_reported(stack: Stack, sdk: anthropic.Anthropic, streaming: bool) -> None:
    marker = tag()
    params: dict[str, Any] = {
        "model": MODEL, "max_tokens": 64, "stop_sequences": ["STOPPROBE", "END"],
        "messages": user(f"[[fake:vllm_stop=STOPPROBE]] {marker}"),
    }  # fmt: skip
    if streaming:
        with sdk.messages.stream(**params) as stream:
            message = stream.get_final_message()
    else:
        message = sdk.messages.create(**params)
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "STOPPROBE")  # P11
    sent = upstream(stack, marker)
    assert sent["stop"] == ["STOPPROBE", "END"]
    assert "stop_sequences" not in sent


@pytest.mark.parametrize(("finish", "stop_reason"), [("length", "max_tokens"), ("content_filter", "refusal")])
def test_finish_reasons_map(sdk: anthropic.Anthropic, finish: str, stop_reason: str) -> None:
    message = sdk.messages.create(model=MODEL, max_tokens=64, messages=user(f"[[fake:finish={finish}]] {tag()}"))
    assert message.stop_reason == stop_reason


@pytest.mark.parametrize("streaming", [False, True])
def test_cached_tokens_are_reported_not_double_counted(stack: Stack, streaming: bool) -> None:
    marker = tag()
    body = {"model": MODEL, "max_tokens": 32, "stream": streaming, "messages": user(f"[[fake:cached=2400]] {marker}")}
    headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}
    response = httpx.post(f"{stack.base_url}/v1/messages", json=body, headers=headers)
    assert response.status_code == 200
    if streaming:
        (event,) = recorded_completions(stack.nats_url, stack.prefix, response.headers["request-id"])
        usage = {"input_tokens": event.input_tokens, "cache_read_input_tokens": event.cache_read_input_tokens}
    else:
        usage = response.json()["usage"]
    from fakes.openai_scripts import estimate_prompt_tokens

    assert usage["cache_read_input_tokens"] == 2400  # P20
    assert usage["input_tokens"] == estimate_prompt_tokens(upstream(stack, marker))


def test_request_features_reach_the_provider_translated(stack: Stack, sdk: anthropic.Anthropic) -> None:
    marker = tag()
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    sdk.messages.create(
        model=MODEL,
        max_tokens=100,
        system=[{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        metadata={"user_id": json.dumps({"device_id": "d" * 40, "session_id": "s" * 36, "account_uuid": "a" * 36})},
        tools=TOOLS[:1],
        tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": pixel}},
            {"type": "image", "source": {"type": "url", "url": "https://example.test/cat.png"}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc body"}},
            {"type": "text", "text": marker},
        ]}],
        extra_body={"temperature": 0.3},
        extra_headers={"anthropic-version": "2023-06-01"},
    )  # fmt: skip
    sent = upstream(stack, marker)
    assert sent["messages"][0]["role"] == "system"
    assert "You are terse." in json.dumps(sent["messages"][0])
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tools"][0]["function"]["parameters"] == {"type": "object", "properties": {}}
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["parallel_tool_calls"] is False  # P34
    assert sent["temperature"] == 0.3
    assert sent["max_tokens"] == 100
    assert len(sent["user"]) <= 64  # P28
    parts = json.dumps(sent["messages"][1])
    assert f"data:image/png;base64,{pixel}" in parts
    assert "https://example.test/cat.png" in parts
    assert "doc body" in parts


def test_empty_tools_list_sends_no_tools(stack: Stack, sdk: anthropic.Anthropic) -> None:
    marker = tag()
    sdk.messages.create(model=MODEL, max_tokens=16, tools=[], messages=user(marker))
    sent = upstream(stack, marker)
    assert "tools" not in sent  # P33
    assert "tool_choice" not in sent


def test_claude_code_history_blocks_never_break_the_session(stack: Stack, sdk: anthropic.Anthropic) -> None:
    history: list[Any] = [  # raw JSON, as Claude Code replays it
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "list files"}]},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_01A", "name": "search", "input": {}},
            {"type": "text", "text": "searching"},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01A",
             "content": [{"type": "tool_reference", "tool_name": "get_weather"}]},
            {"type": "text", "text": tag()},
        ]},
    ]  # fmt: skip
    message = sdk.messages.create(model=MODEL, max_tokens=16, tools=TOOLS, messages=history)  # P9, P13, P14
    assert message.content[0].type == "text"


@pytest.mark.parametrize(
    ("directive", "error_class", "mentions"),
    [
        ("[[fake:status=429]]", anthropic.RateLimitError, ""),
        ("[[fake:status=500]]", anthropic.InternalServerError, ""),
        ("[[fake:status=503]]", anthropic.OverloadedError, ""),
        ("[[fake:context_length]]", anthropic.BadRequestError, "prompt is too long"),  # P27
        ("[[fake:status=404]]", anthropic.NotFoundError, ""),
    ],
)
def test_provider_errors_map_to_anthropic_errors(
    sdk: anthropic.Anthropic, directive: str, error_class: type[anthropic.APIStatusError], mentions: str
) -> None:
    with pytest.raises(error_class) as caught:
        sdk.messages.create(model=MODEL, max_tokens=16, messages=user(f"{directive} {tag()}"))
    assert caught.value.body["error"]["message"].startswith(mentions)  # type: ignore[index]
    if error_class is anthropic.RateLimitError:
        assert caught.value.response.headers["retry-after"] == "2"


@pytest.mark.parametrize("fault", ["[[fake:midstream_error=3]]", "[[fake:drop_after=3]]"])
def test_mid_stream_failures_become_error_events(stack: Stack, fault: str) -> None:
    body = {"model": MODEL, "max_tokens": 64, "stream": True, "messages": user(f"[[fake:words=10]] {fault}")}
    headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}
    with httpx.stream("POST", f"{stack.base_url}/v1/messages", json=body, headers=headers) as response:
        text = response.read().decode()
    assert text.startswith("event: message_start")
    assert "\nevent: error\n" in "\n" + text
    assert "message_stop" not in text


def test_count_tokens_is_a_local_estimate(sdk: anthropic.Anthropic) -> None:
    short = sdk.messages.count_tokens(model=MODEL, messages=user("hi"))
    longer = sdk.messages.count_tokens(model=MODEL, messages=user("hi " * 400))
    assert 0 < short.input_tokens < longer.input_tokens


def test_models_list_includes_the_providers_models(sdk: anthropic.Anthropic) -> None:
    ids = {model.id for model in sdk.models.list()}
    assert {MODEL, "gpt-fake", "gpt-fake-mini"} <= ids


@pytest.mark.parametrize(
    ("model", "directive", "tried"),
    [
        ("fallback-on-error", "[[fake:status=529]] [[fake:status_times=1]]", ["oai/gpt-fake", "oai-backup/gpt-fake"]),
        ("fallback-on-error", "[[fake:status=500]] [[fake:status_times=1]]", ["oai/gpt-fake", "oai-backup/gpt-fake"]),
        ("fallback-on-error", "[[fake:status=429]] [[fake:status_times=1]]", ["oai/gpt-fake", "oai-backup/gpt-fake"]),
        ("fallback-on-timeout", "[[fake:delay=1.6]]", ["oai-slow/gpt-fake", "oai-backup/gpt-fake"]),
        ("fallback-on-refusal", "", ["unreachable/claude-x", "oai/gpt-fake"]),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
def test_fallback_serves_one_clean_response(
    stack: Stack, model: str, directive: str, tried: list[str], streaming: bool
) -> None:
    body = {"model": model, "max_tokens": 32, "stream": streaming, "messages": user(f"{directive} {tag()}")}
    headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}
    response = httpx.post(f"{stack.base_url}/v1/messages", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    if streaming:
        assert response.text.count("event: message_start") == 1
        assert response.text.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    else:
        assert response.json()["content"][0]["text"] == DEFAULT_TEXT
    (event,) = recorded_completions(stack.nats_url, stack.prefix, response.headers["request-id"])
    assert event.targets_tried == tried
    assert f"{event.provider}/{event.upstream_model}" == tried[-1]
    assert event.status == "succeeded"


def test_a_failure_after_the_first_byte_is_not_retried(stack: Stack) -> None:
    body = {"model": "fallback-on-error", "max_tokens": 32, "stream": True,
            "messages": user(f"[[fake:words=10]] [[fake:midstream_error=3]] {tag()}")}  # fmt: skip
    headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}
    with httpx.stream("POST", f"{stack.base_url}/v1/messages", json=body, headers=headers) as response:
        text = response.read().decode()
        request_id = response.headers["request-id"]
    assert "event: error" in text
    (event,) = recorded_completions(stack.nats_url, stack.prefix, request_id)
    assert event.targets_tried == ["oai/gpt-fake"]
