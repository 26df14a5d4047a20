"""The stream grammar checker itself must reject what the translating-proxy pitfalls describe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from support.anthropic_stream_grammar import assert_valid_anthropic_stream
from support.openai_chunks import chunk, run, tool_call_chunks
from switchboard.orchestrator.translation.anthropic_openai.stream import Event


def _good_stream() -> list[Event]:
    events, _ = run([chunk(reasoning_content="r"), chunk(content="t"), *tool_call_chunks(0, "c", "Bash", "{}", 1)])
    return events


def _drop(kind: str, nth: int = 0) -> list[Event]:
    events = _good_stream()
    positions = [
        i for i, (name, data) in enumerate(events) if name == kind or data.get("delta", {}).get("type") == kind
    ]
    del events[positions[nth]]
    return events


def _with(position: int, event: Event) -> list[Event]:
    events = _good_stream()
    events.insert(position, event)
    return events


def _start(index: int, content_block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": content_block}


def _text_delta(index: int) -> Event:
    return (
        "content_block_delta",
        {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": "x"}},
    )


def _thinking_delta(index: int) -> Event:
    delta = {"type": "thinking_delta", "thinking": "x"}
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def _replace_tool_start(content_block: dict[str, Any]) -> list[Event]:
    events = _good_stream()
    at = next(i for i, (name, data) in enumerate(events) if name == "content_block_start" and data["index"] == 2)
    events[at] = ("content_block_start", _start(2, content_block))
    return events


def _with_empty_text_block() -> list[Event]:
    events = _good_stream()
    stop = ("content_block_stop", {"type": "content_block_stop", "index": 3})
    return [*events[:-2], ("content_block_start", _start(3, {"type": "text", "text": ""})), stop, *events[-2:]]


def _with_input_tokens(count: int) -> list[Event]:
    events = _good_stream()
    message = events[0][1]["message"]
    message["usage"]["input_tokens"] = count
    return events


BROKEN_STREAMS: dict[str, tuple[Callable[[], list[Event]], str]] = {
    "P7": (lambda: _with(1, _good_stream()[0]), "a second message_start"),
    "P4": (lambda: _with(-2, _text_delta(0)), "delta outside its block"),
    "P6": (lambda: _with(6, _thinking_delta(1)), "thinking_delta in a text block"),
    "P15": (lambda: _drop("signature_delta"), "needs one signature_delta"),
    "P5": (lambda: _drop("content_block_start", 1), "delta outside its block"),
    "P3": (lambda: _replace_tool_start({"type": "tool_use", "id": "toolu_x", "name": "Bash", "input": {"a": 1}}), "P3"),
    "P8": (_with_empty_text_block, "blank text block"),
    "P25": (
        lambda: [("message", data) if name == "message_stop" else (name, data) for name, data in _good_stream()],
        "P25",
    ),
    "P26": (lambda: _good_stream()[:-1], "not message_stop"),
    "P21": (lambda: _with_input_tokens(0), "input_tokens must be > 0"),
}


@pytest.mark.parametrize("case", list(BROKEN_STREAMS))
def test_the_checker_rejects_broken_streams(case: str) -> None:
    build, reason = BROKEN_STREAMS[case]
    with pytest.raises(AssertionError, match=reason):
        assert_valid_anthropic_stream(build())
