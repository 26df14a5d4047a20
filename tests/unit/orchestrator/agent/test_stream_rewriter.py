"""The streaming client sees one valid message made of every iteration, MCP tool calls hidden, usage summed."""

from __future__ import annotations

from typing import Any

from support.anthropic_stream_grammar import assert_valid_anthropic_stream
from switchboard.orchestrator.agents.stream_rewriter import StreamRewriter
from unit.orchestrator.agent.agent_events import (
    Event,
    message_end,
    message_start,
    parse,
    ping,
    raw,
    text_block,
    thinking_block,
    tool_block,
)


def hides(block: dict[str, Any]) -> bool:
    return block.get("type") == "tool_use" and str(block.get("name", "")).startswith("mcp__")


def play(rewriter: StreamRewriter, events: list[Event]) -> bytes:
    out = b"".join(rewriter.rewrite(name, payload, raw((name, payload))) for name, payload in events)
    rewriter.next_iteration()
    return out


SUMS = {"input_tokens": 30, "output_tokens": 12, "cache_creation_input_tokens": 4, "cache_read_input_tokens": 0}


def test_two_iterations_become_one_message_with_increasing_indices() -> None:
    rewriter = StreamRewriter(hides)
    first = [
        message_start("msg_first"),
        *thinking_block(0, "Plan.", "sig-1"),
        ping(),
        *text_block(1, "Calling ", "read."),
        *tool_block(2, "mcp__fs__read", '{"path": "/a"}'),
        *message_end("tool_use"),
    ]
    second = [
        message_start("msg_second"),
        *text_block(0, "Done."),
        *tool_block(1, "get_weather", '{"location": "Paris"}', "toolu_client"),
        *message_end("tool_use"),
    ]
    stream = play(rewriter, first) + play(rewriter, second) + rewriter.closing("tool_use", None, SUMS)

    events = parse(stream)
    message = assert_valid_anthropic_stream(events)
    assert message["id"] == "msg_first"
    assert [block["type"] for block in message["content"]] == ["thinking", "text", "text", "tool_use"]
    assert message["content"][2]["text"] == "Done."
    assert (message["content"][3]["name"], message["content"][3]["input"]) == ("get_weather", {"location": "Paris"})
    assert message["stop_reason"] == "tool_use"
    assert message["usage"] == SUMS
    names = [name for name, _ in events]
    assert names.count("message_start") == names.count("message_delta") == names.count("message_stop") == 1
    assert "mcp__fs__read" not in stream.decode()


def test_the_first_iterations_events_pass_byte_for_byte() -> None:
    rewriter = StreamRewriter(hides)
    events = [message_start(), ping(), *text_block(0, "Hi")]
    assert play(rewriter, events) == b"".join(raw(event) for event in events)


def test_the_closing_events_carry_all_four_usage_fields_and_the_notice() -> None:
    rewriter = StreamRewriter(hides)
    opening = play(rewriter, [message_start(), *text_block(0, "Calling x."), *tool_block(1, "mcp__s__x", "{}")])
    zeros = dict.fromkeys(SUMS, 0) | {"input_tokens": 7, "output_tokens": 3}
    closing = parse(rewriter.closing("end_turn", None, zeros, "[stopped]"))
    notice = {"type": "text_delta", "text": "[stopped]"}
    empty = {"type": "text", "text": ""}
    assert closing[:3] == [
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": empty}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": notice}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ]
    assert closing[3] == (
        "message_delta",
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": zeros},
    )
    assert closing[4] == ("message_stop", {"type": "message_stop"})
    assert_valid_anthropic_stream(parse(opening) + closing)


def test_errors_and_unknown_events_pass_unchanged() -> None:
    rewriter = StreamRewriter(hides)
    play(rewriter, [message_start()])
    error: Event = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    future: Event = ("future_event", {"type": "future_event", "detail": [1]})
    assert rewriter.rewrite(*error, raw(error)) == raw(error)
    assert rewriter.rewrite(*future, raw(future)) == raw(future)
    assert rewriter.rewrite("message_start", message_start()[1], raw(message_start())) == b"", "once per response"


def test_deltas_of_a_block_that_never_started_are_dropped() -> None:
    rewriter = StreamRewriter(hides)
    stray = text_block(4, "x")[1]
    assert rewriter.rewrite(*stray, raw(stray)) == b""
