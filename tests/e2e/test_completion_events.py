"""Every request through the gateway leaves exactly one ``CompletionRecorded`` fact in the usage stream."""

from __future__ import annotations

import httpx
import pytest

from e2e.sse import read_events
from support.stack import Stack
from support.usage_stream import recorded_completions

HEADERS = {"anthropic-version": "2023-06-01"}


def post(stack: Stack, body: dict[str, object]) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/v1/messages", json=body, headers={**HEADERS, "x-api-key": stack.api_key})


def test_streamed_success_is_recorded_with_usage(stack: Stack) -> None:
    body = {
        "model": "claude-opus-5", "max_tokens": 64, "stream": True,
        "messages": [{"role": "user", "content": '[[fake:words=7]] [[fake:usage={"cache_read_input_tokens": 40}]]'}],
    }  # fmt: skip
    with httpx.stream(
        "POST", f"{stack.base_url}/v1/messages", json=body, headers={**HEADERS, "x-api-key": stack.api_key}
    ) as response:
        events = list(read_events(response))
        request_id = response.headers["request-id"]
    start = events[0].data["message"]["usage"]
    (event,) = recorded_completions(stack.nats_url, stack.prefix, request_id)
    assert event.status == "succeeded"
    assert event.user_id == stack.user_id and event.key_id == stack.key_id
    assert event.requested_model == "claude-opus-5" and event.provider == "anthropic"
    assert event.streamed is True
    assert event.input_tokens == start["input_tokens"]
    assert event.output_tokens == 7
    assert event.cache_read_input_tokens == 40
    assert event.stop_reason == "end_turn"
    assert event.time_to_first_token_ms is not None and event.latency_ms >= event.time_to_first_token_ms


def test_tool_use_names_are_recorded(stack: Stack) -> None:
    body = {
        "model": "claude-opus-5", "max_tokens": 64,
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": "[[fake:tool_use]]"}],
    }  # fmt: skip
    response = post(stack, body)
    assert response.status_code == 200
    (event,) = recorded_completions(stack.nats_url, stack.prefix, response.headers["request-id"])
    assert event.tool_use_count == 1 and event.tool_names == ["get_weather"]
    assert event.stop_reason == "tool_use" and event.streamed is False


@pytest.mark.parametrize(
    ("model", "prompt", "status"), [("claude-opus-5", "[[fake:status=429]]", 429), ("unrouted-model", "x", 404)]
)
def test_failures_are_recorded_too(stack: Stack, model: str, prompt: str, status: int) -> None:
    response = post(stack, {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": prompt}]})
    assert response.status_code == status
    (event,) = recorded_completions(stack.nats_url, stack.prefix, response.headers["request-id"])
    assert event.status == "failed"
    assert event.http_status == status
    assert event.error_type == response.json()["error"]["type"]
