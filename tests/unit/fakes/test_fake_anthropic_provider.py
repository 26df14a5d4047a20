"""The fake Anthropic provider speaks the wire format the official SDK and raw SSE readers expect."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import httpx2
import pytest

from fakes.anthropic_provider import FakeAnthropic

API_KEY = "sk-ant-fake-upstream"
MODEL = "claude-fake-model"  # opaque on purpose: the SDK warns about retired real ids
HEADERS = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
WEATHER_TOOL: anthropic.types.ToolParam = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key=API_KEY, base_url=fake.url, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def raw(fake: FakeAnthropic) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers=HEADERS, timeout=10) as http:
        yield http


def marker() -> str:
    return f"marker-{uuid.uuid4().hex}"


def user(text: str) -> list[anthropic.types.MessageParam]:
    return [{"role": "user", "content": text}]


def body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": text}], **extra}


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse an SSE body, asserting Anthropic's framing: every data line follows its own event line."""
    events = []
    for frame in text.split("\n\n"):
        if not frame:
            continue
        event_line, data_line = frame.split("\n")
        assert event_line.startswith("event: ")
        assert data_line.startswith("data: ")
        payload = json.loads(data_line.removeprefix("data: "))
        assert payload["type"] == event_line.removeprefix("event: ")
        events.append((payload["type"], payload))
    return events


def test_create_returns_a_message_and_records_the_request(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    tag = marker()
    message = client.messages.create(model=MODEL, max_tokens=64, messages=user(f"hi {tag}"))

    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello from the fake provider."
    assert (message.model, message.stop_reason, message.stop_sequence) == (MODEL, "end_turn", None)
    assert message.id.startswith("msg_")
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens == 5
    assert message.usage.service_tier == "standard"
    assert re.fullmatch(r"req_[A-Za-z0-9]{24}", message._request_id or "")
    (recorded,) = fake.requests_with_marker(tag)
    assert (recorded.method, recorded.path) == ("POST", "/v1/messages")
    assert recorded.headers["authorization"] == f"Bearer {API_KEY}"
    assert recorded.json["messages"][0]["content"] == f"hi {tag}"


def test_message_ids_are_unique(client: anthropic.Anthropic) -> None:
    ids = {client.messages.create(model=MODEL, max_tokens=8, messages=user("hi")).id for _ in range(3)}
    assert len(ids) == 3


def test_stream_final_message_matches_directives(client: anthropic.Anthropic) -> None:
    usage = '{"cache_read_input_tokens": 100}'
    prompt = f"[[fake:text=It is sunny today]] [[fake:usage={usage}]] [[fake:stop_sequence=XYZ]]"
    with client.messages.stream(model=MODEL, max_tokens=64, messages=user(prompt)) as stream:
        message = stream.get_final_message()

    assert message.content[0].type == "text"
    assert message.content[0].text == "It is sunny today"
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "XYZ")
    assert message.usage.output_tokens == 4
    assert message.usage.cache_read_input_tokens == 100


def test_thinking_block_streams_before_text(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model=MODEL, max_tokens=64, messages=user("[[fake:thinking]]")) as stream:
        message = stream.get_final_message()

    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].type == "thinking"
    assert message.content[0].signature


def test_tool_use_streams_arguments_as_input_json_deltas(client: anthropic.Anthropic) -> None:
    prompt = '[[fake:tool_use]] [[fake:tool_input={"location": "Lyon", "days": [1, 2]}]]'
    with client.messages.stream(model=MODEL, max_tokens=64, tools=[WEATHER_TOOL], messages=user(prompt)) as stream:
        deltas = [e.delta for e in stream if e.type == "content_block_delta"]
        message = stream.get_final_message()

    json_parts = [d.partial_json for d in deltas if d.type == "input_json_delta"]
    assert json_parts[0] == ""
    assert len(json_parts) > 2
    assert [block.type for block in message.content] == ["text", "tool_use"]
    tool_use = message.content[1]
    assert tool_use.type == "tool_use"
    assert tool_use.id.startswith("toolu_")
    assert (tool_use.name, tool_use.input) == ("get_weather", {"location": "Lyon", "days": [1, 2]})
    assert message.stop_reason == "tool_use"


def test_tool_use_is_only_triggered_by_the_last_user_message(client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=64,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "[[fake:tool_use]]"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "x", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "20C"}]},
        ],
    )
    assert message.stop_reason == "end_turn"
    assert [block.type for block in message.content] == ["text"]


def test_count_tokens_matches_the_message_estimate(client: anthropic.Anthropic) -> None:
    messages = user("count these tokens please")
    counted = client.messages.count_tokens(model=MODEL, messages=messages)
    created = client.messages.create(model=MODEL, max_tokens=8, messages=messages)
    assert counted.input_tokens == created.usage.input_tokens > 0


def test_models_list_paginates_and_terminates(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    assert [model.id for model in client.models.list(limit=1)] == [
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001",
    ]
    assert client.models.retrieve("claude-haiku-4-5-20251001").display_name == "Claude Haiku 4.5"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-unknown")


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.ContentTooLargeError, "request_too_large"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_status_directive_raises_the_sdk_error(
    client: anthropic.Anthropic, status: int, error_class: type[anthropic.APIStatusError], error_type: str
) -> None:
    with pytest.raises(error_class) as caught:
        client.messages.create(model=MODEL, max_tokens=8, messages=user(f"[[fake:status={status}]]"))

    error = caught.value
    assert error.status_code == status
    assert isinstance(error.body, dict)
    assert error.body["error"]["type"] == error_type
    assert error.body["request_id"] == error.request_id == error.response.headers["request-id"]
    if status == 429:
        assert error.response.headers["retry-after"] == "1"
    if status == 404:
        assert error.body["error"]["message"] == f"model: {MODEL}"


def test_status_directive_applies_to_count_tokens_and_streams(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError):
        client.messages.count_tokens(model=MODEL, messages=user("[[fake:status=429]]"))
    with (
        pytest.raises(anthropic.InternalServerError),
        client.messages.stream(model=MODEL, max_tokens=8, messages=user("[[fake:status=500]]")),
    ):
        pass


def test_status_times_lets_a_retry_succeed(fake: FakeAnthropic) -> None:
    tag = marker()
    with anthropic.Anthropic(api_key=API_KEY, base_url=fake.url, max_retries=1) as retrying:
        message = retrying.messages.create(
            model=MODEL, max_tokens=8, messages=user(f"{tag} [[fake:status=500]] [[fake:status_times=1]]")
        )
    assert message.content[0].type == "text"
    assert len(fake.requests_with_marker(tag)) == 2


def test_drop_after_breaks_the_stream(client: anthropic.Anthropic) -> None:
    with (
        pytest.raises((anthropic.APIConnectionError, httpx2.TransportError)),
        client.messages.stream(model=MODEL, max_tokens=8, messages=user("[[fake:drop_after=2]]")) as stream,
    ):
        stream.get_final_message()


def test_midstream_error_raises_after_the_stream_started(client: anthropic.Anthropic) -> None:
    with (
        pytest.raises(anthropic.APIStatusError, match="overloaded_error"),
        client.messages.stream(model=MODEL, max_tokens=8, messages=user("[[fake:midstream_error=2]]")) as stream,
    ):
        stream.get_final_message()


def test_client_disconnect_is_detected(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    tag = marker()
    stream = client.messages.create(
        model=MODEL, max_tokens=64, stream=True, messages=user(f"{tag} [[fake:words=50]] [[fake:word_delay=0.2]]")
    )
    events = iter(stream)
    next(events), next(events)
    closed_at = time.monotonic()
    stream.close()

    deadline = closed_at + 2
    while not fake.disconnected(tag) and time.monotonic() < deadline:
        time.sleep(0.02)
    disconnected_at = fake.disconnected_at(tag)
    assert disconnected_at is not None
    assert closed_at - 0.1 <= disconnected_at <= deadline


def test_completed_stream_is_not_reported_as_disconnected(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    tag = marker()
    with client.messages.stream(model=MODEL, max_tokens=8, messages=user(tag)) as stream:
        stream.get_final_message()
    time.sleep(0.1)
    assert not fake.disconnected(tag)


def test_sse_framing_is_anthropic_exact(raw: httpx.Client) -> None:
    response = raw.post("/v1/messages?beta=true", json=body("[[fake:words=3]]", stream=True))

    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r"req_[A-Za-z0-9]{24}", response.headers["request-id"])
    assert "[DONE]" not in response.text
    types = [event_type for event_type, _ in sse_events(response.text)]
    assert types == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 3,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = sse_events(response.text)[0][1]["message"]
    assert (start["content"], start["stop_reason"], start["usage"]["output_tokens"]) == ([], None, 1)
    deltas = [payload["delta"]["text"] for kind, payload in sse_events(response.text) if kind == "content_block_delta"]
    assert deltas == ["word1 ", "word2 ", "word3"]


def test_stall_is_silent_without_ping_interval(raw: httpx.Client) -> None:
    started = time.monotonic()
    response = raw.post("/v1/messages", json=body("[[fake:stall_after=1,0.5]]", stream=True))
    types = [event_type for event_type, _ in sse_events(response.text)]
    assert time.monotonic() - started >= 0.5
    assert types.count("ping") == 1


def test_stall_sends_pings_when_ping_interval_is_set() -> None:
    with (
        FakeAnthropic(api_key=API_KEY, ping_interval=0.1) as pinging,
        httpx.Client(base_url=pinging.url, headers=HEADERS) as http,
    ):
        response = http.post("/v1/messages", json=body("[[fake:stall_after=1,0.55]]", stream=True))
    types = [event_type for event_type, _ in sse_events(response.text)]
    assert types.count("ping") >= 1 + 4
    assert types[-1] == "message_stop"


def test_delay_holds_back_the_response_head(raw: httpx.Client) -> None:
    started = time.monotonic()
    response = raw.post("/v1/messages", json=body("[[fake:delay=0.3]]"))
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({"anthropic-version": "2023-06-01"}, 401, "x-api-key header is required"),
        ({"x-api-key": "wrong", "anthropic-version": "2023-06-01"}, 401, "invalid x-api-key"),
        ({"x-api-key": API_KEY}, 400, "anthropic-version: header is required"),
    ],
)
def test_auth_and_version_headers_are_required(
    fake: FakeAnthropic, headers: dict[str, str], status: int, message: str
) -> None:
    response = httpx.post(f"{fake.url}/v1/messages", json=body("hi"), headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["message"] == message
    assert response.json()["request_id"] == response.headers["request-id"]


def test_validation_follows_the_api_version(raw: httpx.Client) -> None:
    missing = raw.post("/v1/messages", json={"model": MODEL, "messages": []})
    assert missing.status_code == 400
    assert missing.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}

    strict = raw.post("/v1/messages", json=body("hi", temperature=0.5), headers={"anthropic-version": "2026-10-21"})
    assert strict.status_code == 400
    assert strict.json()["error"]["message"] == "temperature: Extra inputs are not permitted"

    assert raw.post("/v1/messages", json=body("hi", temperature=0.5)).status_code == 200


def test_unknown_fields_and_chunked_bodies_reach_the_fake_unchanged(fake: FakeAnthropic, raw: httpx.Client) -> None:
    tag = marker()
    sent = body(tag, context_management={"edits": [{"type": "clear_thinking_20251015"}]}, speed="fast")
    payload = json.dumps(sent).encode()
    response = raw.post("/v1/messages", content=iter([payload[:10], payload[10:]]))
    assert response.status_code == 200
    (recorded,) = fake.requests_with_marker(tag)
    assert recorded.json == sent
    assert recorded.headers["transfer-encoding"] == "chunked"


def test_unknown_paths_get_an_anthropic_404(raw: httpx.Client) -> None:
    response = raw.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "not_found_error"
    assert raw.head("/api/hello").status_code == 404


def test_keep_alive_serves_several_requests_on_one_connection(fake: FakeAnthropic) -> None:
    request = (
        "GET /v1/models/claude-haiku-4-5-20251001 HTTP/1.1\r\nhost: fake\r\n"
        f"x-api-key: {API_KEY}\r\nanthropic-version: 2023-06-01\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", int(fake.url.rsplit(":", 1)[1])), timeout=5) as sock:
        for _ in range(2):
            sock.sendall(request)
            head = _read_until(sock, b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
            assert head.startswith(b"HTTP/1.1 200 OK")
            assert json.loads(_read_exactly(sock, length))["id"] == "claude-haiku-4-5-20251001"


def _read_until(sock: socket.socket, separator: bytes) -> bytes:
    data = b""
    while separator not in data:
        data += sock.recv(1)
    return data


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    return data


def test_stop_ends_open_streams_promptly() -> None:
    fake = FakeAnthropic(api_key=API_KEY)
    fake.start()
    prompt = "[[fake:words=50]] [[fake:word_delay=0.2]]"
    with anthropic.Anthropic(api_key=API_KEY, base_url=fake.url, max_retries=0) as sdk:
        stream = sdk.messages.create(model=MODEL, max_tokens=64, stream=True, messages=user(prompt))
        with stream:
            events = iter(stream)
            next(events)
            started = time.monotonic()
            fake.stop()
            assert time.monotonic() - started < 2
            with pytest.raises((anthropic.APIConnectionError, httpx2.TransportError)):
                list(events)
