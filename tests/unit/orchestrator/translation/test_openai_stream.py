"""OpenAI ``chat.completion.chunk`` streams → Anthropic SSE events: one test per streaming pitfall, then the rest.

Every translated stream goes through ``assert_valid_anthropic_stream`` (strict grammar + the SDK's accumulator).
"""

from __future__ import annotations

import json

import anthropic
import pytest

from support.anthropic_stream_grammar import assert_valid_anthropic_stream
from support.openai_chunks import (
    SIGNER,
    blocks,
    chunk,
    fragment,
    run,
    tool_call_chunks,
    translate,
    translator,
    usage_chunk,
)
from switchboard.common.anthropic.responses import Message
from switchboard.common.anthropic.streaming import format_sse

# --- one test per pitfall ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["one-char fragments", "arguments only in the last chunk"])
def test_p1_streamed_tool_arguments_reach_the_input(variant: str) -> None:
    arguments = {"command": "ls -la", "timeout": 30}
    serialised = json.dumps(arguments)
    if variant == "one-char fragments":
        chunks = tool_call_chunks(0, "call_1", "Bash", serialised, 1)
    else:
        chunks = [fragment(0, None, "call_1", "Bash"), chunk(content=None), fragment(0, serialised)]
    message = translate([*chunks, chunk(finish="tool_calls")])
    assert message["content"] == [
        {"type": "tool_use", "id": "toolu_call_1", "name": "Bash", "input": arguments},
    ]


def test_p2_long_arguments_with_escapes_and_unicode_round_trip_exactly() -> None:
    command = ('grep -rn "a \\"quoted\\" \\\\ path" . | sort -u | head -n 5 && echo \'héllo ✓ 日本\'\n' * 70)[:5000]
    arguments = {"command": command, "description": "search \u2028 and tab\t"}
    serialised = json.dumps(arguments, ensure_ascii=False)
    message = translate([*tool_call_chunks(0, "call_1", "Bash", serialised, 7), chunk(finish="tool_calls")])
    assert message["content"][0]["input"] == arguments


def test_p3_arguments_only_in_deltas_never_in_the_start_event() -> None:
    events, _ = run([*tool_call_chunks(0, "call_1", "Read", '{"file_path": "/a"}', 5), chunk(finish="tool_calls")])
    assert_valid_anthropic_stream(events)
    starts = [data for name, data in events if name == "content_block_start"]
    assert [start["content_block"]["input"] for start in starts] == [{}]
    deltas = [data["delta"]["partial_json"] for name, data in events if name == "content_block_delta"]
    assert "".join(deltas) == '{"file_path": "/a"}'


def test_p4_interleaved_parallel_calls_become_contiguous_sequential_blocks() -> None:
    calls = [
        ("call_a", "Read", '{"file_path": "/a"}'),
        ("call_b", "Grep", '{"pattern": "x"}'),
        ("call_c", "Bash", "{}"),
    ]
    per_call = [tool_call_chunks(i, call_id, name, args, 4) for i, (call_id, name, args) in enumerate(calls)]
    longest = max(map(len, per_call))
    interleaved = [
        item for group in zip(*(c + [chunk()] * (longest - len(c)) for c in per_call), strict=True) for item in group
    ]
    events, _ = run([*interleaved, chunk(finish="tool_calls")])
    message = assert_valid_anthropic_stream(events)
    assert [(b["id"], b["name"], b["input"]) for b in message["content"]] == [
        ("toolu_call_a", "Read", {"file_path": "/a"}),
        ("toolu_call_b", "Grep", {"pattern": "x"}),
        ("toolu_call_c", "Bash", {}),
    ]
    indexed = [(name, data["index"]) for name, data in events if "index" in data]
    assert [i for name, i in indexed if name == "content_block_start"] == [0, 1, 2]
    assert [i for name, i in indexed if name == "content_block_stop"] == [0, 1, 2]
    stopped: set[int] = set()
    for name, index in indexed:
        assert index not in stopped, "an event after its block's stop"
        if name == "content_block_stop":
            stopped.add(index)


def test_p5_reasoning_after_text_opens_a_new_block_instead_of_reusing_one() -> None:
    message = translate(
        [chunk(content="Let me look."), chunk(reasoning_content="Hmm, "), chunk(reasoning_content="the file."), chunk()]
    )
    assert blocks(message) == ["text", "thinking"]
    assert message["content"][1]["thinking"] == "Hmm, the file."


def test_p6_reasoning_then_content_keeps_the_first_content_token() -> None:
    message = translate(
        [
            chunk(role="assistant", content=""),
            chunk(reasoning_content="Think "),
            chunk(reasoning_content="hard."),
            chunk(content="First", reasoning_content=None),
            chunk(content=" answer."),
            chunk(finish="stop"),
        ]
    )
    assert blocks(message) == ["thinking", "text"]
    assert message["content"][0]["thinking"] == "Think hard."
    assert message["content"][1]["text"] == "First answer."


def test_p7_exactly_one_message_start_and_it_comes_first() -> None:
    stream = translator()
    events = stream.feed(chunk(content="hi"))  # feed before start: start is sent once, first
    events += stream.start() + stream.start() + stream.feed(chunk(finish="stop")) + stream.finish()
    assert events[0][0] == "message_start"
    assert [name for name, _ in events].count("message_start") == 1
    assert_valid_anthropic_stream(events)


def test_p8_tool_only_answer_has_no_empty_or_blank_text_block() -> None:
    message = translate(
        [
            chunk(role="assistant", content=""),
            chunk(content="\n\n"),
            *tool_call_chunks(0, "call_1", "Bash", '{"command": "ls"}', 6),
            chunk(content=" "),
            chunk(finish="tool_calls"),
        ]
    )
    assert blocks(message) == ["tool_use"]


@pytest.mark.parametrize(
    ("finish", "with_tool", "provider_stop", "expected"),
    [
        ("stop", False, None, ("end_turn", None)),
        ("length", False, None, ("max_tokens", None)),
        ("content_filter", False, None, ("refusal", None)),
        ("tool_calls", True, None, ("tool_use", None)),
        ("stop", True, None, ("tool_use", None)),  # providers that say "stop" for tool calls
        ("stop", False, "STOPPROBE", ("stop_sequence", "STOPPROBE")),
        ("stop", False, 128001, ("end_turn", None)),  # a token id, not a stop string
        (None, False, None, ("end_turn", None)),
    ],
)
def test_p10_stop_reason_mapping(
    finish: str | None, with_tool: bool, provider_stop: str | int | None, expected: tuple[str, str | None]
) -> None:
    chunks = [chunk(content="Some text")]
    if with_tool:
        chunks += tool_call_chunks(0, "call_1", "Bash", '{"command": "ls"}', 50)
    last = chunk(finish=finish)
    last["choices"][0]["stop_reason"] = provider_stop
    message = translate([*chunks, last], stop_sequences=["STOPPROBE"])
    assert (message["stop_reason"], message["stop_sequence"]) == expected


def test_p15_thinking_block_gets_one_gateway_signature_just_before_its_stop() -> None:
    events, _ = run([chunk(reasoning_content="Step 1. "), chunk(reasoning_content="Step 2."), chunk(content="Done")])
    message = assert_valid_anthropic_stream(events)
    thinking = message["content"][0]
    assert SIGNER.verify("Step 1. Step 2.", thinking["signature"])
    names = [(name, data.get("delta", {}).get("type")) for name, data in events]
    signature_at = names.index(("content_block_delta", "signature_delta"))
    assert names[signature_at + 1] == ("content_block_stop", None)


def test_p20_cached_tokens_are_reported_once_under_cache_read() -> None:
    usage = {"prompt_tokens": 2570, "completion_tokens": 12, "prompt_tokens_details": {"cached_tokens": 2400}}
    events, stream = run([chunk(content="hi"), chunk(finish="stop"), usage_chunk(**usage)])
    message = assert_valid_anthropic_stream(events)
    assert message["usage"] == {
        "input_tokens": 170,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 2400,
        "output_tokens": 12,
    }
    assert stream.usage == message["usage"]


def test_p21_message_start_carries_a_positive_input_estimate() -> None:
    for estimate, expected in ((4321, 4321), (0, 1)):
        events = translator(input_estimate=estimate).start()
        usage = events[0][1]["message"]["usage"]
        assert usage == {
            "input_tokens": expected,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 1,
        }


def test_p25_every_event_is_named_after_its_type() -> None:
    events, _ = run([chunk(reasoning_content="r"), chunk(content="t"), *tool_call_chunks(0, "c", "Bash", "{}", 1)])
    for name, data in events:
        assert name == data["type"]
        assert format_sse(data).startswith(f"event: {name}\ndata: ".encode())


def test_p26_stream_ends_with_message_stop_and_no_done_sentinel() -> None:
    events, stream = run([chunk(content="hi"), chunk(finish="stop")])
    wire = b"".join(format_sse(data) for _, data in events)
    assert events[-1] == ("message_stop", {"type": "message_stop"})
    assert b"[DONE]" not in wire and b"event: done" not in wire
    assert stream.finish() == [] and stream.feed(chunk(content="late")) == []


def test_p31_p32_the_streamed_message_is_complete_with_stop_sequence_always_present() -> None:
    events, _ = run([chunk(content="hi"), chunk(finish="stop")])
    start = events[0][1]["message"]
    assert {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"} <= set(start)
    assert start["model"] == "claude-alias"
    delta = next(data["delta"] for name, data in events if name == "message_delta")
    assert delta == {"stop_reason": "end_turn", "stop_sequence": None}
    final = assert_valid_anthropic_stream(events)
    Message.model_validate(final)
    anthropic.types.Message.model_validate(final)


def test_p38_every_stream_gets_its_own_message_id() -> None:
    ids = {translator().start()[0][1]["message"]["id"] for _ in range(50)}
    assert len(ids) == 50 and all(i.startswith("msg_") for i in ids)


# --- scenarios -------------------------------------------------------------------------------------------------


def test_text_then_three_parallel_calls_with_interleaved_fragments() -> None:
    calls = [
        ("call_0", "Read", json.dumps({"file_path": "/src/app.py"})),
        ("call_1", "Grep", json.dumps({"pattern": "def \\w+", "path": "src"})),
        ("call_2", "Bash", json.dumps({"command": "pytest -q", "timeout": 60000})),
    ]
    per_call = [tool_call_chunks(i, call_id, name, args, 3) for i, (call_id, name, args) in enumerate(calls)]
    longest = max(map(len, per_call))
    interleaved = [group[step] for step in range(longest) for group in per_call if step < len(group)]
    events, stream = run([chunk(content="I'll "), chunk(content="look."), *interleaved, chunk(finish="tool_calls")])
    message = assert_valid_anthropic_stream(events)
    assert blocks(message) == ["text", "tool_use", "tool_use", "tool_use"]
    assert message["content"][0]["text"] == "I'll look."
    assert [block["input"] for block in message["content"][1:]] == [json.loads(args) for _, _, args in calls]
    assert message["stop_reason"] == "tool_use"
    assert stream.tool_use_names == ["Read", "Grep", "Bash"] and stream.stop_reason == "tool_use"


def test_reasoning_field_name_used_by_openrouter_and_ollama() -> None:
    message = translate([chunk(reasoning="thought"), chunk(content="answer"), chunk(finish="stop")])
    assert [(b["type"], b.get("thinking", b.get("text"))) for b in message["content"]] == [
        ("thinking", "thought"),
        ("text", "answer"),
    ]


def test_usage_chunk_after_finish_reason_is_in_the_cumulative_message_delta() -> None:
    stream = translator()
    events = stream.start() + stream.feed(chunk(content="hi")) + stream.feed(chunk(finish="stop"))
    assert "message_delta" not in [name for name, _ in events], "message_delta must wait for finish()"
    usage = {
        "prompt_tokens": 900,
        "completion_tokens": 40,
        "cache_read_input_tokens": 500,
        "cache_creation_input_tokens": 300,
        "completion_tokens_details": {"reasoning_tokens": 25},
    }
    events += stream.feed(usage_chunk(**usage)) + stream.finish()
    assert_valid_anthropic_stream(events)
    delta_usage = next(data["usage"] for name, data in events if name == "message_delta")
    assert delta_usage == {
        "input_tokens": 100,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 500,
        "output_tokens": 40,
        "output_tokens_details": {"thinking_tokens": 25},
    }


def test_without_provider_usage_the_delta_carries_only_an_output_estimate() -> None:
    events, stream = run([chunk(content="x" * 40), chunk(finish="stop")])
    delta_usage = next(data["usage"] for name, data in events if name == "message_delta")
    assert delta_usage == {"output_tokens": 10}
    assert stream.usage["input_tokens"] == 321


def test_stop_sequence_reported_by_vllm_stop_reason() -> None:
    last = chunk(finish="stop")
    last["choices"][0]["stop_reason"] = "</answer>"
    message = translate([chunk(content="42"), last], stop_sequences=["</answer>", "\n\nHuman:"])
    assert (message["stop_reason"], message["stop_sequence"]) == ("stop_sequence", "</answer>")


def test_stop_sequence_kept_in_the_output_by_the_provider_is_recognised() -> None:
    message = translate(
        [chunk(content="42 </ans"), chunk(content="wer>"), chunk(finish="stop")], stop_sequences=["</answer>"]
    )
    assert (message["stop_reason"], message["stop_sequence"]) == ("stop_sequence", "</answer>")


def test_mid_stream_provider_error_ends_the_stream_with_an_error_event() -> None:
    stream = translator()
    events = stream.start() + stream.feed(chunk(content="partial"))
    events += stream.feed({"error": {"message": "upstream overloaded", "type": "server_error", "code": "503"}})
    assert events[-1] == (
        "error",
        {"type": "error", "error": {"type": "overloaded_error", "message": "upstream overloaded"}},
    )
    assert_valid_anthropic_stream(events)
    assert stream.finish() == [] and stream.feed(chunk(content="more")) == []
    assert "message_stop" not in [name for name, _ in events]


def test_error_accepts_our_message_or_the_provider_error_object() -> None:
    ours = translator().error("upstream provider x ended the stream early")
    assert ours == [
        (
            "error",
            {"type": "error", "error": {"type": "api_error", "message": "upstream provider x ended the stream early"}},
        )
    ]
    theirs = translator().error({"message": "Rate limit reached, key sk-abcdefghijkl", "code": 429})
    assert theirs[0][1]["error"]["type"] == "rate_limit_error"
    assert "sk-abcdefghijkl" not in theirs[0][1]["error"]["message"]


def test_malformed_tool_arguments_end_the_stream_with_an_error() -> None:
    events, stream = run([*tool_call_chunks(0, "call_1", "Bash", '{"command": "ls"', 4), chunk(finish="tool_calls")])
    assert_valid_anthropic_stream(events)
    assert events[-1][0] == "error" and "malformed tool arguments" in events[-1][1]["error"]["message"]
    assert stream.stop_reason is None


def test_call_cut_off_by_max_tokens_reports_max_tokens() -> None:
    message = translate([*tool_call_chunks(0, "call_1", "Write", '{"content": "abc', 4), chunk(finish="length")])
    assert message["stop_reason"] == "max_tokens"
