"""A stream cut before its final usage is billed for what it carried, never for zero."""

from __future__ import annotations

import json
from typing import Any

from switchboard.orchestrator.token_estimate import estimate_char_tokens, estimate_input_tokens
from switchboard.orchestrator.usage import UsageTracker


def event(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


def delta(kind: str, field: str, value: str) -> bytes:
    return event({"type": "content_block_delta", "index": 0, "delta": {"type": kind, field: value}})


START = event({"type": "message_start", "message": {"usage": {"input_tokens": 40, "output_tokens": 1}}})


def cut_stream() -> UsageTracker:
    tracker = UsageTracker()
    tracker.observe_event(START)
    tracker.observe_event(delta("thinking_delta", "thinking", "let me see"))  # 10
    tracker.observe_event(delta("signature_delta", "signature", "x" * 400))  # not output
    tracker.observe_event(delta("text_delta", "text", "Hello there, world"))  # 18
    tracker.observe_event(delta("input_json_delta", "partial_json", '{"a": 1}'))  # 8
    return tracker


def test_a_cut_stream_is_billed_the_estimate_of_its_deltas() -> None:
    tracker = cut_stream()
    assert tracker.usage_estimated
    assert tracker.streamed_chars == 36
    tokens = tracker.billable_tokens()
    assert tokens["output_tokens"] == estimate_char_tokens(36) == 9
    assert tokens["input_tokens"] == 40  # from message_start
    assert tracker.tokens["output_tokens"] == 1  # the provider's own figures stay as they came


def test_the_providers_final_usage_wins_when_it_arrived() -> None:
    tracker = cut_stream()
    tracker.observe_event(event({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 5}}))
    assert not tracker.usage_estimated
    assert tracker.billable_tokens()["output_tokens"] == 5


def test_anything_streamed_is_at_least_one_token() -> None:
    tracker = UsageTracker()
    tracker.observe_event(START)
    tracker.observe_event(delta("input_json_delta", "partial_json", ""))
    assert tracker.billable_tokens()["output_tokens"] == 1


def test_nothing_streamed_is_zero_output() -> None:
    tracker = UsageTracker()
    tracker.observe_event(event({"type": "message_start", "message": {"usage": {"input_tokens": 3}}}))
    assert not tracker.usage_estimated
    assert tracker.billable_tokens()["output_tokens"] == 0


def test_input_is_estimated_from_the_request_only_when_message_start_never_came() -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "count me " * 20}]}
    tracker = UsageTracker()
    tracker.observe_event(delta("text_delta", "text", "abc"))
    tokens = tracker.billable_tokens(json.dumps(body).encode())
    assert tokens["input_tokens"] == estimate_input_tokens(body)
    assert tokens["output_tokens"] == 1
    assert cut_stream().billable_tokens(json.dumps(body).encode())["input_tokens"] == 40


def test_a_whole_body_answer_is_never_estimated() -> None:
    tracker = UsageTracker()
    tracker.observe_body(json.dumps({"content": [], "usage": {"input_tokens": 2, "output_tokens": 3}}))
    assert not tracker.usage_estimated


def test_settled_counts_are_final() -> None:
    tracker = cut_stream()
    tracker.settle({"input_tokens": 100, "output_tokens": 50})
    assert not tracker.usage_estimated
    assert tracker.billable_tokens()["output_tokens"] == 50
