"""The official anthropic SDK (2.x) against the whole stack: gateway → NATS → orchestrator → fake provider."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import anthropic
import httpx
import pytest
from anthropic.types import MessageParam, ToolParam

from support.stack import Stack

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sdk(stack: Stack) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=stack.base_url, api_key=stack.api_key, max_retries=0) as client:
        yield client


def marker() -> str:
    return f"m-{secrets.token_hex(6)}"


def test_create_returns_the_provider_message(stack: Stack, sdk: anthropic.Anthropic) -> None:
    tag = marker()
    message = sdk.messages.create(
        model="claude-opus-5", max_tokens=64, messages=[{"role": "user", "content": f"hi {tag}"}]
    )
    assert message.type == "message"
    assert message.id.startswith("msg_")
    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello from the fake provider."
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message._request_id is not None and message._request_id.startswith("req_")


def test_current_sdk_authenticates_with_bearer_and_sends_the_new_api_version(
    stack: Stack, sdk: anthropic.Anthropic
) -> None:
    tag = marker()
    sdk.messages.create(model="claude-opus-5", max_tokens=16, messages=[{"role": "user", "content": tag}])
    (seen,) = stack.fake.requests_with_marker(tag)
    assert seen.headers["anthropic-version"] == "2026-10-21"
    assert seen.headers["x-api-key"] == stack.fake.api_key, "the upstream key, never the client's"
    assert stack.api_key not in json.dumps(seen.headers)


def test_stream_text_arrives_as_deltas(stack: Stack, sdk: anthropic.Anthropic) -> None:
    tag = marker()
    with sdk.messages.stream(
        model="claude-opus-5",
        max_tokens=64,
        messages=[{"role": "user", "content": f"[[fake:words=12]] {tag}"}],
    ) as stream:
        deltas = [event.delta.text for event in stream if event.type == "content_block_delta"]  # type: ignore[union-attr]
        final = stream.get_final_message()
    assert len(deltas) == 12
    assert final.content[0].text == "".join(deltas)  # type: ignore[union-attr]
    assert final.usage.output_tokens == 12


def test_stream_tool_use_input_arrives_as_input_json_delta(stack: Stack, sdk: anthropic.Anthropic) -> None:
    tool: ToolParam = {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}
    wanted = {"location": 'Paris, "the" city', "days": [1, 2, 3], "note": "naïve ☃"}
    prompt = f"[[fake:tool_use]] [[fake:tool_input={json.dumps(wanted)}]] {marker()}"
    with sdk.messages.stream(
        model="claude-opus-5", max_tokens=64, tools=[tool], messages=[{"role": "user", "content": prompt}]
    ) as stream:
        kinds = [event.delta.type for event in stream if event.type == "content_block_delta"]
        final = stream.get_final_message()
    assert "input_json_delta" in kinds
    assert final.stop_reason == "tool_use"
    block = final.content[-1]
    assert block.type == "tool_use"
    assert block.input == wanted


def test_count_tokens_is_forwarded(stack: Stack, sdk: anthropic.Anthropic) -> None:
    tag = marker()
    counted = sdk.messages.count_tokens(
        model="claude-opus-5", messages=[{"role": "user", "content": f"count me {tag}"}]
    )
    assert counted.input_tokens > 0
    (seen,) = stack.fake.requests_with_marker(tag)
    assert seen.path == "/v1/messages/count_tokens"


def test_models_list_terminates_and_retrieves(stack: Stack, sdk: anthropic.Anthropic) -> None:
    client = sdk
    ids = [model.id for model in client.models.list(limit=1)]
    assert len(ids) == len(set(ids))
    assert {"alias-sonnet", "demo"} <= set(ids)
    assert client.models.retrieve("demo").id == "demo"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("no-such-model")


def test_beta_query_string_and_headers_reach_the_provider(stack: Stack, sdk: anthropic.Anthropic) -> None:
    tag = marker()
    betas = "x-future-2099-01-01,context-1m-2025-08-07"
    sdk.beta.messages.create(
        model="claude-opus-5",
        max_tokens=16,
        messages=[{"role": "user", "content": tag}],
        extra_headers={"anthropic-beta": betas, "x-claude-code-session-id": "s-1"},
        extra_query={"beta": "true"},  # what Claude Code sends; SDK 2.x keeps its beta qualifier internal
    )
    (seen,) = stack.fake.requests_with_marker(tag)
    assert seen.query == "beta=true"
    assert seen.headers["anthropic-beta"] == betas
    assert seen.headers["x-claude-code-session-id"] == "s-1"


def test_unknown_fields_and_blocks_reach_the_provider_byte_for_byte(stack: Stack) -> None:
    tag = marker()
    body = {
        "max_tokens": 0,
        "model": "claude-opus-5",
        "x_future": {"nested": [1, 2.5, None]},
        "system": [
            {"type": "text", "text": "attribution"},
            {"type": "text", "text": "rules", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        ],
        "thinking": {"type": "adaptive"},
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": f"{tag} caf\u00e9"}, {"type": "future_block", "x": 1}],
            },
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": "c2ln/+=="}]},
            {"role": "system", "content": "mid-conversation system message"},
        ],
    }
    # Odd spacing, key order and escapes: only a byte-faithful path keeps them.
    raw = json.dumps(body, indent=1, ensure_ascii=True).encode()
    headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01", "content-type": "application/json"}
    response = httpx.post(f"{stack.base_url}/v1/messages", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    (seen,) = stack.fake.requests_with_marker(tag)
    assert seen.body == raw


def test_alias_routes_rewrite_only_the_model(stack: Stack, sdk: anthropic.Anthropic) -> None:
    tag = marker()
    message = sdk.messages.create(model="alias-sonnet", max_tokens=16, messages=[{"role": "user", "content": tag}])
    (seen,) = stack.fake.requests_with_marker(tag)
    assert seen.json is not None and seen.json["model"] == "claude-sonnet-4-5-20250929"
    assert message.content[0].type == "text"


def test_demo_model_works_offline(stack: Stack, sdk: anthropic.Anthropic) -> None:
    client = sdk
    message = client.messages.create(model="demo", max_tokens=64, messages=[{"role": "user", "content": "ping"}])
    assert message.model == "demo"
    assert "demo" in message.content[0].text.lower()  # type: ignore[union-attr]
    with client.messages.stream(model="demo", max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as s:
        assert s.get_final_message().content[0].type == "text"


def call_with(sdk: anthropic.Anthropic, text: str, *, streaming: bool) -> None:
    messages: list[MessageParam] = [{"role": "user", "content": text}]
    if streaming:
        with sdk.messages.stream(model="claude-opus-5", max_tokens=16, messages=messages) as stream:
            stream.get_final_message()
    else:
        sdk.messages.create(model="claude-opus-5", max_tokens=16, messages=messages)


@pytest.mark.parametrize(
    ("directive", "error_class"),
    [
        ("[[fake:status=400]]", anthropic.BadRequestError),
        ("[[fake:status=404]]", anthropic.NotFoundError),
        ("[[fake:status=429]]", anthropic.RateLimitError),
        ("[[fake:status=500]]", anthropic.InternalServerError),
        ("[[fake:status=529]]", anthropic.OverloadedError),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
def test_provider_errors_reach_the_sdk_as_the_same_class(
    sdk: anthropic.Anthropic, directive: str, error_class: type[anthropic.APIStatusError], streaming: bool
) -> None:
    with pytest.raises(error_class) as caught:
        call_with(sdk, directive, streaming=streaming)
    assert caught.value.request_id is not None and caught.value.request_id.startswith("req_")
    assert caught.value.body["request_id"] == caught.value.request_id  # type: ignore[index]


def test_gateway_errors_raise_the_sdk_classes(stack: Stack, sdk: anthropic.Anthropic) -> None:
    client = sdk
    with (
        anthropic.Anthropic(base_url=stack.base_url, api_key="sk-ant-uc-" + "x" * 43, max_retries=0) as stranger,
        pytest.raises(anthropic.AuthenticationError),
    ):
        stranger.models.list()
    with pytest.raises(anthropic.BadRequestError, match="messages"):
        client.messages.create(model="claude-opus-5", max_tokens=16, messages=[])
    with pytest.raises(anthropic.NotFoundError, match="unrouted-model"):
        client.messages.create(model="unrouted-model", max_tokens=16, messages=[{"role": "user", "content": "x"}])
    huge = "x" * (33 * 1024 * 1024)
    with pytest.raises(anthropic.ContentTooLargeError):
        client.messages.create(model="claude-opus-5", max_tokens=16, messages=[{"role": "user", "content": huge}])


def test_concurrent_requests_get_distinct_ids(stack: Stack, sdk: anthropic.Anthropic) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = sdk

    def one(_: int) -> tuple[str, str | None]:
        message = client.messages.create(
            model="claude-opus-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
        return message.id, message._request_id

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(30)))
    assert len({message_id for message_id, _ in results}) == 30
    assert len({request_id for _, request_id in results}) == 30


def test_stream_alias_always_streams(stack: Stack) -> None:
    body = {"model": "claude-opus-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}
    with httpx.stream("POST", f"{stack.base_url}/v1/messages/stream", json=body, headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    assert text.startswith("event: message_start\n")
    assert text.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert "[DONE]" not in text


def test_count_tokens_falls_back_to_a_local_estimate(sdk: anthropic.Anthropic) -> None:
    counted = sdk.messages.count_tokens(model="demo", messages=[{"role": "user", "content": "a fairly long sentence"}])
    assert counted.input_tokens > 0


def test_unknown_stream_events_are_forwarded_verbatim(stack: Stack) -> None:
    body = {"model": "claude-opus-5", "max_tokens": 16, "stream": True,
            "messages": [{"role": "user", "content": "[[fake:unknown_event]]"}]}  # fmt: skip
    headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}
    with httpx.stream("POST", f"{stack.base_url}/v1/messages", json=body, headers=headers) as response:
        text = response.read().decode()
    assert 'event: future_event\ndata: {"type":"future_event","detail":{"k":[1,2]}}\n\n' in text
