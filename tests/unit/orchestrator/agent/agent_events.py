"""Builders of the Anthropic stream events an agent iteration receives, shared by the agent unit tests."""

from __future__ import annotations

import json
from typing import Any

from switchboard.common.anthropic import format_sse
from switchboard.orchestrator.sse import SseSplitter, event_fields

Event = tuple[str, dict[str, Any]]


def message_start(message_id: str = "msg_1", **usage: int) -> Event:
    message: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1, **usage},
    }
    return "message_start", {"type": "message_start", "message": message}


def text_block(index: int, *pieces: str) -> list[Event]:
    return [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
        ),
        *[_delta(index, {"type": "text_delta", "text": piece}) for piece in pieces],
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def tool_block(index: int, name: str, arguments: str, tool_id: str = "toolu_1") -> list[Event]:
    start = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
    half = len(arguments) // 2
    return [
        ("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}),
        _delta(index, {"type": "input_json_delta", "partial_json": ""}),
        _delta(index, {"type": "input_json_delta", "partial_json": arguments[:half]}),
        _delta(index, {"type": "input_json_delta", "partial_json": arguments[half:]}),
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def thinking_block(index: int, thinking: str, signature: str) -> list[Event]:
    start = {"type": "thinking", "thinking": "", "signature": ""}
    return [
        ("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}),
        _delta(index, {"type": "thinking_delta", "thinking": thinking}),
        _delta(index, {"type": "signature_delta", "signature": signature}),
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def message_end(stop_reason: str, stop_sequence: str | None = None, **usage: int) -> list[Event]:
    delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence}
    return [
        ("message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": 5, **usage}}),
        ("message_stop", {"type": "message_stop"}),
    ]


def ping() -> Event:
    return "ping", {"type": "ping"}


def raw(event: Event) -> bytes:
    return format_sse(event[1])


def parse(stream: bytes) -> list[Event]:
    splitter = SseSplitter()
    events = splitter.feed(stream)
    assert splitter.close() == ([], b""), "the stream ends with a whole event"
    parsed = []
    for item in events:
        name, data = event_fields(item)
        assert name is not None
        parsed.append((name, json.loads(data)))
    return parsed


def _delta(index: int, delta: dict[str, Any]) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
