"""OpenAI stream quirks seen in the wild (missing or repeated ids, late names, repeated arguments, …)."""

from __future__ import annotations

from support.anthropic_stream_grammar import assert_valid_anthropic_stream
from support.openai_chunks import (
    blocks,
    chunk,
    fragment,
    run,
    tool_call_chunks,
    translate,
)


def test_missing_ids_get_generated_ids_stable_for_the_stream() -> None:
    chunks = [fragment(0, "", None, "Read"), fragment(1, "", None, "Grep"), fragment(0, "{}"), fragment(1, "{}")]
    events, _ = run([*chunks, chunk(finish="tool_calls")])
    message = assert_valid_anthropic_stream(events)
    ids = [block["id"] for block in message["content"]]
    assert len(set(ids)) == 2 and all(i.startswith("toolu_") for i in ids)


def test_calls_sharing_index_zero_but_with_distinct_ids_stay_separate() -> None:
    chunks = [fragment(0, '{"a": 1}', "call_x", "One"), fragment(0, '{"b": 2}', "call_y", "Two")]
    message = translate([*chunks, chunk(finish="tool_calls")])
    assert [(b["id"], b["input"]) for b in message["content"]] == [
        ("toolu_call_x", {"a": 1}),
        ("toolu_call_y", {"b": 2}),
    ]


def test_repeated_provider_ids_are_made_unique() -> None:
    chunks = [fragment(0, "{}", "call_0", "One"), fragment(1, "{}", "call_0", "Two")]
    message = translate([*chunks, chunk(finish="tool_calls")])
    ids = [block["id"] for block in message["content"]]
    assert ids[0] == "toolu_call_0" and ids[1] != ids[0]


def test_whole_arguments_repeated_after_completion_are_dropped() -> None:
    chunks = [*tool_call_chunks(0, "call_1", "Bash", '{"command": "ls"}', 5), fragment(0, '{"command": "ls"}')]
    message = translate([*chunks, chunk(finish="tool_calls")])
    assert message["content"][0]["input"] == {"command": "ls"}


def test_arguments_sent_as_an_object_are_serialised() -> None:
    entry = {"index": 0, "id": "c1", "type": "function", "function": {"name": "Bash", "arguments": {"command": "ls"}}}
    message = translate([chunk(tool_calls=[entry]), chunk(finish="tool_calls")])
    assert message["content"][0]["input"] == {"command": "ls"}


def test_text_interleaved_with_an_unfinished_call_waits_for_it() -> None:
    chunks = [
        fragment(0, '{"command": ', "call_1", "Bash"),
        chunk(content="While that runs..."),
        fragment(0, '"ls"}'),
        chunk(finish="tool_calls"),
    ]
    message = translate(chunks)
    assert blocks(message) == ["tool_use", "text"]
    assert message["content"][0]["input"] == {"command": "ls"}
    assert message["stop_reason"] == "tool_use"


def test_a_call_whose_name_arrives_late_still_opens_in_order() -> None:
    chunks = [fragment(0, '{"x": 1}', "call_1"), fragment(0, None, None, "Late"), chunk(finish="tool_calls")]
    message = translate(chunks)
    assert [(b["name"], b["input"]) for b in message["content"]] == [("Late", {"x": 1})]


def test_refusal_delta_is_text_and_stops_with_refusal() -> None:
    message = translate([chunk(refusal="I can't help with that."), chunk(finish="stop")])
    assert message["content"] == [{"type": "text", "text": "I can't help with that."}]
    assert message["stop_reason"] == "refusal"


def test_empty_stream_still_has_a_complete_grammar() -> None:
    message = translate([])
    assert message["content"] == [] and message["stop_reason"] == "end_turn"


def test_a_stray_empty_tool_call_fragment_is_not_a_call() -> None:
    stray = chunk(tool_calls=[{"index": 0, "function": {"arguments": ""}}])
    message = translate([chunk(content="Hi"), stray, chunk(finish="stop")])
    assert blocks(message) == ["text"] and message["stop_reason"] == "end_turn"
