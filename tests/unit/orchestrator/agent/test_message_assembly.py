"""Blocks rebuilt from stream events, one Message across iterations, and usage summed over provider calls."""

from __future__ import annotations

from typing import Any

from switchboard.orchestrator.agents.message_assembler import BlockAssembler, assemble_message
from switchboard.orchestrator.agents.usage_totals import UsageTotals
from unit.orchestrator.agent.agent_events import Event, message_start, text_block, thinking_block, tool_block


def assemble(events: list[Event]) -> list[dict[str, Any]]:
    assembler = BlockAssembler()
    for name, payload in events:
        assembler.observe(name, payload)
    return assembler.blocks()


def test_text_thinking_and_tool_use_blocks_are_rebuilt() -> None:
    blocks = assemble(
        [
            *thinking_block(0, "Let me see.", "c2lnbmF0dXJl"),
            *text_block(1, "Calling ", "read."),
            *tool_block(2, "mcp__fs__read", '{"path": "/a", "n": [1, 2]}'),
        ]
    )
    assert blocks == [
        {"type": "thinking", "thinking": "Let me see.", "signature": "c2lnbmF0dXJl"},
        {"type": "text", "text": "Calling read."},
        {"type": "tool_use", "id": "toolu_1", "name": "mcp__fs__read", "input": {"path": "/a", "n": [1, 2]}},
    ]


def test_citations_accumulate_on_their_text_block() -> None:
    start: Event = (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": "", "citations": None}},
    )
    citation = {"type": "char_location", "cited_text": "x", "document_index": 0}
    delta: Event = (
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta", "citation": citation}},
    )
    blocks = assemble([start, delta, *text_block(0, "quoted")[1:]])
    assert blocks == [{"type": "text", "text": "quoted", "citations": [citation]}]


def test_other_block_types_are_kept_as_they_started() -> None:
    redacted = {"type": "redacted_thinking", "data": "opaque"}
    result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [{"type": "x"}]}
    events: list[Event] = [
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": redacted}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": result}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ]
    assert assemble(events) == [redacted, result]


def test_a_tool_use_without_argument_bytes_keeps_its_start_input_and_bad_json_becomes_empty() -> None:
    no_bytes = tool_block(0, "t", "")
    broken = tool_block(1, "u", '{"a": ', "toolu_2")
    blocks = assemble([*no_bytes, *broken])
    assert [block["input"] for block in blocks] == [{}, {}]


def test_the_message_takes_id_and_model_from_the_first_iteration() -> None:
    first = message_start("msg_first")[1]["message"]
    content = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    usage = {"input_tokens": 3, "output_tokens": 4, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1}
    assert assemble_message(first, content, "end_turn", None, usage) == {
        "id": "msg_first",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


def test_usage_is_summed_over_calls_with_all_four_fields() -> None:
    totals = UsageTotals()
    assert totals.as_dict() == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    totals.add(
        {"input_tokens": 100, "output_tokens": 7, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 3}
    )
    totals.add({"input_tokens": 120, "output_tokens": 9, "cache_read_input_tokens": 100})
    assert totals.as_dict() == {
        "input_tokens": 220,
        "output_tokens": 16,
        "cache_creation_input_tokens": 2,
        "cache_read_input_tokens": 103,
    }
