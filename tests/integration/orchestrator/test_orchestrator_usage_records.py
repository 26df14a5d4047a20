"""Every request leaves one CompletionRecorded in the usage stream, with tokens counted the Anthropic way."""

from __future__ import annotations

import json

from nats.aio.client import Client

from integration.orchestrator.orchestrator_harness import Gateway, message_body

WEATHER = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}


async def test_streamed_usage_is_last_seen_never_summed(gateway: Gateway) -> None:
    usage = '{"input_tokens": 111, "cache_read_input_tokens": 22, "cache_creation_input_tokens": 5}'
    text = f"[[fake:words=7]] [[fake:usage={usage}]] count"
    request = gateway.request(message_body(text, stream=True), stream=True, user_id="u-stream", key_id="key-1")
    await gateway.call(request)

    completion, headers = await gateway.completion("u-stream")
    assert headers["Nats-Msg-Id"] == completion.event_id == f"completion-{request.request_id}"
    assert completion.request_id == request.request_id
    assert (completion.key_id, completion.endpoint, completion.streamed) == ("key-1", "messages", True)
    assert (completion.requested_model, completion.provider, completion.upstream_model) == (
        "claude-sonnet-4-5",
        "anthropic",
        "claude-sonnet-4-5",
    )
    assert (completion.input_tokens, completion.cache_read_input_tokens) == (111, 22)
    assert completion.cache_creation_input_tokens == 5
    assert completion.output_tokens == 7  # message_delta's count replaces message_start's 1
    assert (completion.status, completion.http_status, completion.stop_reason) == ("succeeded", 200, "end_turn")
    assert completion.time_to_first_token_ms is not None
    assert 0 < completion.time_to_first_token_ms <= completion.latency_ms


async def test_tool_use_names_from_a_non_streaming_body(gateway: Gateway) -> None:
    body = message_body("[[fake:tool_use]] weather?", tools=[WEATHER])
    await gateway.call(gateway.request(body, user_id="u-tools"))

    completion, _ = await gateway.completion("u-tools")
    assert (completion.tool_use_count, completion.tool_names) == (1, ["get_weather"])
    assert completion.stop_reason == "tool_use"
    assert completion.streamed is False
    assert completion.time_to_first_token_ms is None


async def test_tool_use_names_from_a_stream(gateway: Gateway) -> None:
    body = message_body("[[fake:tool_use]] weather?", stream=True, tools=[WEATHER])
    await gateway.call(gateway.request(body, stream=True, user_id="u-stream-tools"))

    completion, _ = await gateway.completion("u-stream-tools")
    assert completion.tool_names == ["get_weather"]


async def test_failures_are_recorded_too(gateway: Gateway) -> None:
    await gateway.call(gateway.request(message_body("[[fake:status=429]] x"), user_id="u-429"))
    completion, _ = await gateway.completion("u-429")
    assert (completion.status, completion.http_status, completion.error_type) == ("failed", 429, "rate_limit_error")

    await gateway.call(gateway.request(message_body("x", model="nope"), model="nope", user_id="u-404"))
    completion, _ = await gateway.completion("u-404")
    assert (completion.status, completion.http_status, completion.provider) == ("failed", 404, None)


async def test_same_request_twice_is_recorded_once(gateway: Gateway, bus: Client) -> None:
    first = gateway.request(message_body("once"), user_id="u-dedupe")
    await gateway.call(first)
    await gateway.completion("u-dedupe")
    again = gateway.request(message_body("once"), user_id="u-dedupe", request_id=first.request_id)
    await gateway.call(again)
    await gateway.completion("u-dedupe")

    info = await bus.jetstream().stream_info(gateway.subjects.usage_stream)
    assert info.state.messages == 1
    assert info.config.duplicate_window == 600
    assert info.config.subjects == gateway.subjects.usage_stream_subjects


async def test_count_tokens_records_no_usage(gateway: Gateway) -> None:
    body = json.dumps({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]})
    await gateway.call(gateway.request(body, endpoint="count_tokens", user_id="u-count"))
    completion, _ = await gateway.completion("u-count")
    assert (completion.endpoint, completion.input_tokens, completion.output_tokens) == ("count_tokens", 0, 0)
