"""Usage accounting: last seen value of each field, never a sum of message_start and message_delta."""

from __future__ import annotations

import json
from typing import Any

from switchboard.orchestrator.usage import UsageTracker


def event(payload: dict[str, Any], name: str | None = "") -> bytes:
    head = f"event: {payload['type'] if name == '' else name}\n" if name is not None else ""
    return f"{head}data: {json.dumps(payload)}\n\n".encode()


def message_start(usage: dict[str, int]) -> bytes:
    return event({"type": "message_start", "message": {"id": "msg_1", "content": [], "usage": usage}})


def text_delta(text: str) -> bytes:
    return event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})


def test_delta_usage_overwrites_start_usage_field_by_field() -> None:
    tracker = UsageTracker()
    tracker.observe_event(
        message_start(
            {"input_tokens": 10, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 7, "output_tokens": 1}
        )
    )
    tracker.observe_event(event({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 20}}))
    tracker.observe_event(
        event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 42, "cache_read_input_tokens": 9},
            }
        )
    )
    tracker.observe_event(event({"type": "message_stop"}))
    assert tracker.tokens == {
        "input_tokens": 10,
        "output_tokens": 42,
        "cache_creation_input_tokens": 5,
        "cache_read_input_tokens": 9,
    }
    assert tracker.stop_reason == "end_turn"
    assert tracker.saw_message_stop


def test_tool_uses_and_first_delta_time() -> None:
    tracker = UsageTracker()
    tracker.observe_event(message_start({"input_tokens": 3, "output_tokens": 1}))
    assert tracker.time_to_first_token_ms is None
    for index, block in enumerate(
        [{"type": "text", "text": ""}, {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}]
    ):
        tracker.observe_event(event({"type": "content_block_start", "index": index, "content_block": block}))
    tracker.observe_event(
        event(
            {
                "type": "content_block_start",
                "index": 2,
                "content_block": {"type": "server_tool_use", "name": "web_search"},
            }
        )
    )
    tracker.observe_event(
        event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}})
    )
    first = tracker.time_to_first_token_ms
    assert first is not None
    assert first >= 0
    tracker.observe_event(
        event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "y"}})
    )
    assert tracker.time_to_first_token_ms == first
    assert tracker.tool_names == ["get_weather"]


def test_data_only_events_unknown_events_and_garbage_are_tolerated() -> None:
    tracker = UsageTracker()
    tracker.observe_event(event({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 4}}, name=None))
    tracker.observe_event(event({"type": "brand_new_event", "usage": {"output_tokens": 999}}))
    tracker.observe_event(b"event: ping\ndata: not json\n\n")
    tracker.observe_event(event({"type": "message_delta", "usage": {"output_tokens": True}}))
    assert tracker.tokens["output_tokens"] == 4


def test_error_event_is_remembered() -> None:
    tracker = UsageTracker()
    tracker.observe_event(event({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
    assert tracker.stream_error_type == "overloaded_error"
    assert not tracker.saw_message_stop


def test_non_streaming_body() -> None:
    tracker = UsageTracker()
    body = {
        "type": "message",
        "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "a", "name": "read_file", "input": {}},
            {"type": "tool_use", "id": "b", "name": "bash", "input": {}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 11, "output_tokens": 22, "cache_read_input_tokens": 33},
    }
    tracker.observe_body(json.dumps(body))
    assert tracker.tokens == {
        "input_tokens": 11,
        "output_tokens": 22,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 33,
    }
    assert tracker.tool_names == ["read_file", "bash"]
    assert tracker.stop_reason == "tool_use"


def test_count_tokens_body_records_nothing() -> None:
    tracker = UsageTracker()
    tracker.observe_body('{"input_tokens": 1234}')
    tracker.observe_body("not json")
    assert set(tracker.tokens.values()) == {0}
