"""OpenAI ``chat.completion`` → Anthropic ``Message``, and the stop-reason and usage mappings both modes share."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from switchboard.common.anthropic.responses import Message
from switchboard.common.errors import SwitchboardError
from switchboard.orchestrator.translation.anthropic_openai.request import to_openai_request
from switchboard.orchestrator.translation.anthropic_openai.response import (
    MalformedCompletionError,
    to_anthropic_message,
)
from switchboard.orchestrator.translation.anthropic_openai.signatures import ThinkingSigner
from switchboard.orchestrator.translation.anthropic_openai.stop_reasons import anthropic_stop
from switchboard.orchestrator.translation.anthropic_openai.usage import anthropic_usage

SIGNER = ThinkingSigner(b"test-signing-key")
USAGE = {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57}


def completion(
    content: Any = "Hello!", finish: str | None = "stop", usage: Any = USAGE, **message: Any
) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": content, **message}, "finish_reason": finish}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "provider-model",
        "choices": [choice],
        "usage": usage,
    }


def call(call_id: str | None, name: str | None, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def translate(body: dict[str, Any], stop_sequences: list[str] | None = None, estimate: int = 99) -> dict[str, Any]:
    message = to_anthropic_message(
        body,
        requested_model="claude-alias",
        stop_sequences=stop_sequences or [],
        signer=SIGNER,
        input_estimate=estimate,
    )
    # Both our wire model and the official SDK's must accept it as a Message (P31).
    Message.model_validate(message)
    anthropic.types.Message.model_validate(message)
    return message


# --- pitfalls ----------------------------------------------------------------------------------------------------


def test_p8_tool_only_answer_has_no_empty_text_block() -> None:
    for content in ("", None, "\n\n", " "):
        message = translate(completion(content, "tool_calls", tool_calls=[call("call_1", "Bash", '{"command":"ls"}')]))
        assert [block["type"] for block in message["content"]] == ["tool_use"]


@pytest.mark.parametrize(
    ("finish", "tool_calls", "stop", "expected"),
    [
        ("stop", False, None, ("end_turn", None)),
        ("length", False, None, ("max_tokens", None)),
        ("content_filter", False, None, ("refusal", None)),
        ("tool_calls", True, None, ("tool_use", None)),
        ("stop", True, None, ("tool_use", None)),
        ("length", True, None, ("tool_use", None)),  # the calls finished before the limit
        ("tool_calls", False, None, ("end_turn", None)),  # nothing to run
        ("stop", False, "STOPPROBE", ("stop_sequence", "STOPPROBE")),
        ("stop", False, "OTHER", ("end_turn", None)),  # not one the client asked for
        ("stop", False, 2, ("end_turn", None)),  # an end-of-sequence token id
    ],
)
def test_p10_stop_reason_mapping(
    finish: str, tool_calls: bool, stop: str | int | None, expected: tuple[str, str | None]
) -> None:
    calls = [call("call_1", "Bash", "{}")] if tool_calls else None
    body = completion("Text", finish, tool_calls=calls)
    body["choices"][0]["stop_reason"] = stop
    message = translate(body, stop_sequences=["STOPPROBE"])
    assert (message["stop_reason"], message["stop_sequence"]) == expected


def test_p15_reasoning_becomes_a_signed_thinking_block_that_the_request_side_replays() -> None:
    message = translate(completion("The answer is 4.", reasoning_content="2 + 2 = 4"))
    thinking, text = message["content"]
    assert thinking["type"] == "thinking" and thinking["thinking"] == "2 + 2 = 4"
    assert SIGNER.verify("2 + 2 = 4", thinking["signature"])
    assert text == {"type": "text", "text": "The answer is 4."}
    history = {
        "model": "claude-alias",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": message["content"]},
            {"role": "user", "content": "Thanks"},
        ],
    }
    replayed = to_openai_request(
        history, upstream_model="m", api_version="2023-06-01", signer=SIGNER, max_output_tokens=None
    )
    assistant = next(m for m in replayed["messages"] if m["role"] == "assistant")
    assert assistant["reasoning_content"] == "2 + 2 = 4"


def test_p20_cached_prompt_tokens_are_not_counted_twice() -> None:
    usage = {"prompt_tokens": 2570, "completion_tokens": 30, "prompt_tokens_details": {"cached_tokens": 2400}}
    assert translate(completion(usage=usage))["usage"] == {
        "input_tokens": 170,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 2400,
        "output_tokens": 30,
    }


def test_p31_p32_the_body_is_a_complete_anthropic_message() -> None:
    message = translate(completion())
    assert set(message) >= {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["model"] == "claude-alias", "the client's model name, not the provider's"
    assert "stop_sequence" in message and message["stop_sequence"] is None
    assert json.loads(json.dumps(message)) == message


def test_p38_every_response_gets_a_fresh_message_id() -> None:
    ids = {translate(completion())["id"] for _ in range(50)}
    assert len(ids) == 50 and all(i.startswith("msg_") for i in ids)


# --- content -------------------------------------------------------------------------------------------------


def test_blocks_come_in_order_thinking_text_tool_uses() -> None:
    calls = [call("call_a", "Read", '{"file_path": "/a"}'), call("call_b", "Glob", "")]
    message = translate(completion("Looking.", "tool_calls", reasoning="plan", tool_calls=calls))
    assert [block["type"] for block in message["content"]] == ["thinking", "text", "tool_use", "tool_use"]
    assert message["content"][2:] == [
        {"type": "tool_use", "id": "toolu_call_a", "name": "Read", "input": {"file_path": "/a"}},
        {"type": "tool_use", "id": "toolu_call_b", "name": "Glob", "input": {}},
    ]


@pytest.mark.parametrize(("arguments", "expected"), [("", {}), (None, {}), ("null", {}), ({"a": 1}, {"a": 1})])
def test_absent_and_object_arguments(arguments: Any, expected: dict[str, Any]) -> None:
    message = translate(completion(None, "tool_calls", tool_calls=[call("c", "T", arguments)]))
    assert message["content"][0]["input"] == expected


@pytest.mark.parametrize("arguments", ['{"command": "ls"', "[1, 2]", '"text"', "not json"])
def test_malformed_arguments_are_a_502_api_error(arguments: str) -> None:
    with pytest.raises(MalformedCompletionError) as caught:
        translate(completion(None, "tool_calls", tool_calls=[call("c", "Bash", arguments)]))
    error: SwitchboardError = caught.value
    assert (error.status_code, error.error_type) == (502, "api_error")
    assert "malformed tool arguments" in error.message


def test_a_call_cut_off_by_max_tokens_is_dropped() -> None:
    calls = [call("c1", "Read", '{"file_path": "/a"}'), call("c2", "Write", '{"content": "abc')]
    message = translate(completion(None, "length", tool_calls=calls))
    assert [block["name"] for block in message["content"]] == ["Read"]
    assert message["stop_reason"] == "tool_use"
    message = translate(completion("Writing:", "length", tool_calls=calls[1:]))
    assert [block["type"] for block in message["content"]] == ["text"]
    assert message["stop_reason"] == "max_tokens"


@pytest.mark.parametrize("choices", [[], None, ["x"]])
def test_a_completion_without_choices_is_a_502(choices: Any) -> None:
    body = completion()
    body["choices"] = choices
    with pytest.raises(MalformedCompletionError, match="without choices"):
        translate(body)


def test_an_empty_tool_call_entry_is_not_a_call() -> None:
    message = translate(completion("Hi", tool_calls=[{"index": 0, "function": {"arguments": ""}}]))
    assert message["content"] == [{"type": "text", "text": "Hi"}] and message["stop_reason"] == "end_turn"


def test_missing_and_repeated_call_ids() -> None:
    calls = [call(None, "A", "{}"), call("call_0", "B", "{}"), call("call_0", "C", "{}")]
    ids = [block["id"] for block in translate(completion(None, "tool_calls", tool_calls=calls))["content"]]
    assert all(i.startswith("toolu_") for i in ids) and len(set(ids)) == 3 and ids[1] == "toolu_call_0"


def test_legacy_function_call() -> None:
    message = translate(completion(None, "function_call", function_call={"name": "Bash", "arguments": '{"a": 1}'}))
    assert message["content"][0]["name"] == "Bash" and message["content"][0]["input"] == {"a": 1}
    assert message["stop_reason"] == "tool_use"


def test_content_as_a_list_of_parts_and_refusal() -> None:
    message = translate(completion([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]))
    assert message["content"] == [{"type": "text", "text": "ab"}]
    message = translate(completion(None, refusal="I can't help with that."))
    assert message["content"] == [{"type": "text", "text": "I can't help with that."}]
    assert message["stop_reason"] == "refusal"


def test_a_stop_sequence_kept_in_the_output_is_reported_and_removed() -> None:
    message = translate(completion("42</answer>"), stop_sequences=["</answer>"])
    assert (message["stop_reason"], message["stop_sequence"]) == ("stop_sequence", "</answer>")
    assert message["content"] == [{"type": "text", "text": "42"}]


def test_missing_usage_is_estimated() -> None:
    usage = translate(completion("x" * 40, usage=None), estimate=1234)["usage"]
    assert usage == {
        "input_tokens": 1234,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 10,
    }


# --- shared mappings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            None,
            {"input_tokens": 10, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "output_tokens": 3},
        ),
        (
            {
                "prompt_tokens": 1000,
                "completion_tokens": 5,
                "cache_read_input_tokens": 600,
                "cache_creation_input_tokens": 100,
            },
            {
                "input_tokens": 300,
                "cache_read_input_tokens": 600,
                "cache_creation_input_tokens": 100,
                "output_tokens": 5,
            },
        ),
        (
            {
                "prompt_tokens": 800,
                "completion_tokens": 5,
                "prompt_cache_hit_tokens": 700,
                "prompt_cache_miss_tokens": 100,
            },
            {"input_tokens": 100, "cache_read_input_tokens": 700, "cache_creation_input_tokens": 0, "output_tokens": 5},
        ),
        (
            {"prompt_tokens": 0, "completion_tokens": None, "prompt_tokens_details": None},
            {"input_tokens": 10, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "output_tokens": 3},
        ),
        (
            {"prompt_tokens": 100, "completion_tokens": 90, "completion_tokens_details": {"reasoning_tokens": 80}},
            {
                "input_tokens": 100,
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0,
                "output_tokens": 90,
                "output_tokens_details": {"thinking_tokens": 80},
            },
        ),
        (
            {"prompt_tokens": True, "completion_tokens": -4, "prompt_tokens_details": {"cached_tokens": "9"}},
            {"input_tokens": 10, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "output_tokens": 3},
        ),
    ],
    ids=["missing", "litellm-cache-fields", "deepseek", "zeros-and-nulls", "reasoning", "garbage"],
)
def test_anthropic_usage(usage: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    assert anthropic_usage(usage, input_estimate=10, output_estimate=3) == expected


def test_anthropic_stop_without_a_provider_field_reports_end_turn() -> None:
    """OpenAI strips the stop string and says only "stop": without vLLM's field there is nothing to go on."""
    assert anthropic_stop(
        "stop", has_tool_use=False, content_text="42", stop_sequences=["</answer>"], provider_stop=None
    ) == ("end_turn", None)
    assert anthropic_stop(
        "length", has_tool_use=False, content_text="x</answer>", stop_sequences=["</answer>"], provider_stop=None
    ) == ("max_tokens", None)
