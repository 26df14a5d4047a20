"""The fake OpenAI-compatible server speaks Chat Completions as OpenAI does and obeys every directive."""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.openai_provider import FakeOpenAI
from fakes.openai_scripts import DEFAULT_TEXT, REASONING_TEXT
from fakes.openai_wire import CONTEXT_LENGTH_MESSAGE

API_KEY = "sk-fake-openai"
MODEL = "gpt-fake"
TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("get_weather", "get_time", "get_news")
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def http(fake: FakeOpenAI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"authorization": f"Bearer {API_KEY}"}, timeout=10) as client:
        yield client


def marker() -> str:
    return f"marker-{uuid.uuid4().hex}"


def body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **extra}


def complete(http: httpx.Client, text: str, **extra: Any) -> dict[str, Any]:
    response = http.post("/v1/chat/completions", json=body(text, **extra))
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    return payload


def stream(http: httpx.Client, text: str, **extra: Any) -> list[Any]:
    """The payloads of a streamed reply, asserting OpenAI's data-only framing; "[DONE]" stays a string."""
    response = http.post("/v1/chat/completions", json=body(text, stream=True, **extra))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse_payloads(response.text)


def sse_payloads(text: str) -> list[Any]:
    assert text.endswith("\n\n")
    payloads: list[Any] = []
    for frame in text.removesuffix("\n\n").split("\n\n"):
        assert frame.startswith("data: ")
        assert "\n" not in frame
        data = frame.removeprefix("data: ")
        payloads.append(data if data == "[DONE]" else json.loads(data))
    return payloads


def deltas(payloads: list[Any]) -> list[dict[str, Any]]:
    return [p["choices"][0]["delta"] for p in payloads if isinstance(p, dict) and p.get("choices")]


def fragments(payloads: list[Any]) -> list[dict[str, Any]]:
    return [call for delta in deltas(payloads) for call in delta.get("tool_calls", [])]


def arguments_by_index(payloads: list[Any]) -> dict[int, str]:
    joined: dict[int, str] = {}
    for fragment in fragments(payloads):
        joined[fragment["index"]] = joined.get(fragment["index"], "") + fragment["function"]["arguments"]
    return joined


def test_default_reply_is_a_chat_completion_and_the_request_is_recorded(fake: FakeOpenAI, http: httpx.Client) -> None:
    tag = marker()
    reply = complete(http, f"hi {tag}")

    assert reply["id"].startswith("chatcmpl-")
    assert reply["object"] == "chat.completion"
    assert reply["model"] == MODEL
    assert isinstance(reply["created"], int)
    [choice] = reply["choices"]
    assert choice["message"] == {"role": "assistant", "content": DEFAULT_TEXT, "refusal": None}
    assert choice["finish_reason"] == "stop"
    messages = json.dumps(body(f"hi {tag}")["messages"], sort_keys=True, separators=(",", ":"))
    assert reply["usage"] == {
        "prompt_tokens": len(messages) // 4,
        "completion_tokens": 6,
        "total_tokens": 6 + len(messages) // 4,
    }
    [recorded] = fake.requests_with_marker(tag)
    assert (recorded.method, recorded.path, recorded.json["model"]) == ("POST", "/v1/chat/completions", MODEL)


def test_both_paths_answer_and_query_strings_are_ignored(http: httpx.Client) -> None:
    for path in ("/chat/completions?api-version=1", "/v1/chat/completions?x=1"):
        response = http.post(path, json=body("hi"))
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"] == DEFAULT_TEXT


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}, {"x-api-key": API_KEY}])
def test_requests_without_the_bearer_key_get_401(fake: FakeOpenAI, headers: dict[str, str]) -> None:
    response = httpx.post(f"{fake.url}/v1/chat/completions", json=body("hi"), headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Incorrect API key provided",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }


def test_models_are_listed_on_both_paths(http: httpx.Client) -> None:
    for path in ("/v1/models", "/models"):
        listing = http.get(path).json()
        assert listing["object"] == "list"
        assert [model["id"] for model in listing["data"]] == ["gpt-fake", "gpt-fake-mini"]
        assert listing["data"][0] == {"id": "gpt-fake", "object": "model", "created": 1700000000, "owned_by": "fake"}
    assert http.get("/v1/models/gpt-fake-mini").json()["id"] == "gpt-fake-mini"
    assert http.get("/v1/models/nope").status_code == 404


def test_stream_is_data_only_sse_split_per_word_and_ends_with_done(http: httpx.Client) -> None:
    payloads = stream(http, "hi")

    assert payloads[-1] == "[DONE]"
    chunks = payloads[:-1]
    assert all(chunk["object"] == "chat.completion.chunk" and "usage" not in chunk for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert deltas(chunks)[0] == {"role": "assistant", "content": ""}
    words = [delta["content"] for delta in deltas(chunks)[1:-1]]
    assert words == ["Hello ", "from ", "the ", "fake ", "OpenAI ", "provider."]
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-1])


def test_include_usage_adds_a_final_usage_chunk(http: httpx.Client) -> None:
    payloads = stream(http, "hi [[fake:words=3]]", stream_options={"include_usage": True})

    *chunks, usage_chunk, done = payloads
    assert done == "[DONE]"
    assert all(chunk["usage"] is None for chunk in chunks)
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 3
    assert usage_chunk["usage"]["total_tokens"] == usage_chunk["usage"]["prompt_tokens"] + 3


def test_text_and_words_directives(http: httpx.Client) -> None:
    assert complete(http, "[[fake:text=Bonjour à tous]]")["choices"][0]["message"]["content"] == "Bonjour à tous"
    assert complete(http, "[[fake:words=4]]")["choices"][0]["message"]["content"] == "word1 word2 word3 word4"


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (400, "invalid_request_error", None),
        (404, "invalid_request_error", "model_not_found"),
        (500, "server_error", None),
    ],
)
def test_status_directive_returns_an_openai_error(
    http: httpx.Client, status: int, error_type: str, code: str | None
) -> None:
    response = http.post("/v1/chat/completions", json=body(f"[[fake:status={status}]]", stream=True))

    assert response.status_code == status
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (error_type, code, None)
    assert error["message"]


def test_rate_limit_sets_retry_after(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=body("[[fake:status=429]]"))

    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize("text", ["[[fake:status=400]] [[fake:context_length]]", "[[fake:context_length]]"])
def test_context_length_error(http: httpx.Client, text: str) -> None:
    response = http.post("/v1/chat/completions", json=body(text))

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("context_length_exceeded", CONTEXT_LENGTH_MESSAGE)


def test_status_times_fails_only_the_first_requests(http: httpx.Client) -> None:
    text = f"{marker()} [[fake:status=503]] [[fake:status_times=2]]"
    statuses = [http.post("/v1/chat/completions", json=body(text)).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]


def test_delay_holds_back_the_head(http: httpx.Client) -> None:
    started = time.monotonic()
    complete(http, "[[fake:delay=0.3]]")

    assert time.monotonic() - started >= 0.3


def test_stall_and_word_delay_pace_the_stream(http: httpx.Client) -> None:
    with http.stream("POST", "/v1/chat/completions", json=body("[[fake:stall_after=2,0.4]]", stream=True)) as response:
        arrivals = [(time.monotonic(), line) for line in response.iter_lines() if line]
    content_times = [at for at, line in arrivals if '"content":"' in line and '"content":""' not in line]
    gaps = [later - earlier for earlier, later in itertools.pairwise(content_times)]
    assert gaps[1] >= 0.35
    assert max(gaps[:1] + gaps[2:]) < 0.3

    started = time.monotonic()
    stream(http, "[[fake:words=3]] [[fake:word_delay=0.1]]")
    assert time.monotonic() - started >= 0.2


def test_drop_after_closes_the_connection_mid_stream(http: httpx.Client) -> None:
    received: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", "/v1/chat/completions", json=body("[[fake:drop_after=2]]", stream=True)) as response,
    ):
        received.extend(response.iter_lines())
    assert not any("[DONE]" in line for line in received)


def test_midstream_error_sends_an_error_frame_and_ends(http: httpx.Client) -> None:
    payloads = stream(http, "[[fake:midstream_error=2]]")

    assert "[DONE]" not in payloads
    assert payloads[-1] == {"error": {"message": "upstream overloaded", "type": "server_error", "code": "503"}}
    assert [delta.get("content") for delta in deltas(payloads)] == ["", "Hello ", "from "]


def test_parallel_tool_calls_non_streaming(http: httpx.Client) -> None:
    reply = complete(http, "[[fake:tool_calls=2]]", tools=TOOLS)

    [choice] = reply["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    calls = choice["message"]["tool_calls"]
    assert [call["function"]["name"] for call in calls] == ["get_weather", "get_time"]
    assert [json.loads(call["function"]["arguments"]) for call in calls] == [
        {"location": "Paris", "i": 0},
        {"location": "Paris", "i": 1},
    ]
    assert all(call["id"].startswith("call_") and call["type"] == "function" for call in calls)


def test_streamed_tool_calls_reassemble_with_id_and_name_only_first(http: httpx.Client) -> None:
    payloads = stream(http, "[[fake:tool_calls=3]]", tools=TOOLS)

    parts = fragments(payloads)
    assert [part["index"] for part in parts] == sorted(part["index"] for part in parts)  # one call after the other
    heads = [part for part in parts if "id" in part]
    assert [(head["index"], head["function"]["name"]) for head in heads] == [
        (0, "get_weather"),
        (1, "get_time"),
        (2, "get_news"),
    ]
    assert all("name" not in part["function"] for part in parts if "id" not in part)
    assert {i: json.loads(args) for i, args in arguments_by_index(payloads).items()} == {
        i: {"location": "Paris", "i": i} for i in range(3)
    }
    assert payloads[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_interleaved_fragments_alternate_between_calls(http: httpx.Client) -> None:
    payloads = stream(http, "[[fake:tool_calls=2]] [[fake:interleave]]", tools=TOOLS)

    indexes = [part["index"] for part in fragments(payloads)]
    assert indexes[:4] == [0, 1, 0, 1]
    assert [json.loads(args)["i"] for args in arguments_by_index(payloads).values()] == [0, 1]


def test_awkward_split_cuts_inside_strings_and_escapes(http: httpx.Client) -> None:
    args = {"command": 'echo "hi" | grep \\d > out', "note": "café ☕"}
    text = f"[[fake:tool_calls=1]] [[fake:split=awkward]] [[fake:tool_args={json.dumps(args)}]]"
    payloads = stream(http, text, tools=TOOLS)

    pieces = [part["function"]["arguments"] for part in fragments(payloads)[1:]]
    joined = "".join(pieces)
    cuts = set(itertools.accumulate(len(piece) for piece in pieces))
    escapes = [match.start() for match in re.finditer(r"\\(?:u[0-9a-f]{4}|.)", joined)]
    unicode_escapes = [match.start() for match in re.finditer(r"\\u[0-9a-f]{4}", joined)]
    assert all(1 <= len(piece) <= 3 for piece in pieces)
    assert json.loads(joined) == args
    assert len(unicode_escapes) == 2  # é and ☕ travel as \uXXXX
    assert all(at + 1 in cuts for at in escapes)  # between a backslash and the escaped character
    assert all(cuts & set(range(at + 2, at + 6)) for at in unicode_escapes)


def test_args_at_end_sends_each_calls_arguments_in_one_last_fragment(http: httpx.Client) -> None:
    payloads = stream(http, "[[fake:tool_calls=2]] [[fake:args_at_end]]", tools=TOOLS)

    parts = fragments(payloads)
    assert [part["function"]["arguments"] for part in parts[:2]] == ["", ""]
    assert [json.loads(part["function"]["arguments"]) for part in parts[2:]] == [
        {"location": "Paris", "i": 0},
        {"location": "Paris", "i": 1},
    ]


def test_no_tool_ids_omits_ids(http: httpx.Client) -> None:
    payloads = stream(http, "[[fake:tool_calls=1]] [[fake:no_tool_ids]]", tools=TOOLS)
    reply = complete(http, "[[fake:tool_calls=1]] [[fake:no_tool_ids]]", tools=TOOLS)

    assert all("id" not in part for part in fragments(payloads))
    assert "id" not in reply["choices"][0]["message"]["tool_calls"][0]


def test_tool_calls_only_come_from_the_last_user_message(http: httpx.Client) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "weather? [[fake:tool_calls=1]]"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    response = http.post("/v1/chat/completions", json={"model": MODEL, "messages": messages, "tools": TOOLS})

    assert response.json()["choices"][0]["message"]["content"] == DEFAULT_TEXT


def test_tool_calls_need_enough_tools(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=body("[[fake:tool_calls=4]]", tools=TOOLS))

    assert response.status_code == 400
    assert "tool_calls=4" in response.json()["error"]["message"]


def test_reasoning_comes_before_content(http: httpx.Client) -> None:
    payloads = stream(http, "[[fake:reasoning]]")
    reasoning = "".join(delta.get("reasoning_content", "") for delta in deltas(payloads))
    first_content = next(i for i, d in enumerate(deltas(payloads)) if d.get("content"))
    last_reasoning = max(i for i, d in enumerate(deltas(payloads)) if d.get("reasoning_content"))
    reply = complete(http, "[[fake:reasoning]]")

    assert reasoning == REASONING_TEXT
    assert last_reasoning < first_content
    assert reply["choices"][0]["message"]["reasoning_content"] == REASONING_TEXT
    assert reply["usage"]["completion_tokens_details"] == {"reasoning_tokens": 5}


@pytest.mark.parametrize("reason", ["length", "content_filter", "tool_calls", "stop"])
def test_finish_directive_forces_the_finish_reason(http: httpx.Client, reason: str) -> None:
    assert complete(http, f"[[fake:finish={reason}]]")["choices"][0]["finish_reason"] == reason
    assert stream(http, f"[[fake:finish={reason}]]")[-2]["choices"][0]["finish_reason"] == reason


def test_vllm_stop_reports_the_matched_stop_string(http: httpx.Client) -> None:
    choice = complete(http, "[[fake:vllm_stop=STOPPROBE]]")["choices"][0]
    final = stream(http, "[[fake:vllm_stop=STOPPROBE]]")[-2]["choices"][0]

    for reported in (choice, final):
        assert (reported["finish_reason"], reported["stop_reason"]) == ("stop", "STOPPROBE")


def test_cached_tokens_are_part_of_prompt_tokens(http: httpx.Client) -> None:
    plain = complete(http, "cache me")["usage"]
    cached = complete(http, "cache me [[fake:cached=2400]]")["usage"]
    streamed = stream(http, "cache me [[fake:cached=2400]]", stream_options={"include_usage": True})[-2]["usage"]

    assert cached["prompt_tokens_details"] == {"cached_tokens": 2400}
    assert cached["prompt_tokens"] >= plain["prompt_tokens"] + 2400
    assert streamed == cached


def test_max_tokens_truncates_with_finish_length(http: httpx.Client) -> None:
    choice = complete(http, "[[fake:words=10]]", max_tokens=3)["choices"][0]

    assert (choice["message"]["content"], choice["finish_reason"]) == ("word1 word2 word3", "length")


def test_require_reasoning_roundtrip(http: httpx.Client) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    assistant: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
    messages = [
        {"role": "user", "content": "weather? [[fake:require_reasoning_roundtrip]]"},
        assistant,
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    dropped = http.post("/v1/chat/completions", json={"model": MODEL, "messages": messages, "tools": TOOLS})
    assistant["reasoning_content"] = "I should call the tool."
    kept = http.post("/v1/chat/completions", json={"model": MODEL, "messages": messages, "tools": TOOLS})

    assert dropped.status_code == 400
    assert "reasoning_content" in dropped.json()["error"]["message"]
    assert kept.status_code == 200


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"stop_sequences": ["X"]}, "Unrecognized request argument supplied: stop_sequences"),
        ({"tool_choice": "auto"}, "'tool_choice' is only allowed when 'tools' are specified"),
        ({"tools": []}, "empty array"),
        ({"stream_options": {"include_usage": True}}, "only allowed when 'stream' is enabled"),
    ],
)
def test_invalid_requests_get_openai_400s(http: httpx.Client, extra: dict[str, Any], fragment: str) -> None:
    response = http.post("/v1/chat/completions", json=body("hi", **extra))

    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_unanswered_tool_calls_are_rejected(http: httpx.Client) -> None:
    call = {"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "user", "content": "and?"},
    ]
    orphan = [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_9", "content": "x"}]

    unanswered = http.post("/v1/chat/completions", json={"model": MODEL, "messages": messages})
    orphaned = http.post("/v1/chat/completions", json={"model": MODEL, "messages": orphan})

    assert unanswered.status_code == 400
    assert "call_9" in unanswered.json()["error"]["message"]
    assert orphaned.status_code == 400
    assert "must be a response to a preceeding message" in orphaned.json()["error"]["message"]


def test_non_strict_fake_accepts_vendor_fields() -> None:
    with FakeOpenAI(strict=False) as lenient:
        response = httpx.post(
            f"{lenient.url}/v1/chat/completions",
            json=body("hi", chat_template_kwargs={"thinking": True}),
            headers={"authorization": "Bearer sk-fake-openai"},
        )
    assert response.status_code == 200


def test_client_disconnect_is_detected(fake: FakeOpenAI, http: httpx.Client) -> None:
    tag = marker()
    with http.stream("POST", "/v1/chat/completions", json=body(f"{tag} [[fake:word_delay=0.2]]", stream=True)) as r:
        next(r.iter_lines())
    deadline = time.monotonic() + 5
    while not fake.disconnected(tag) and time.monotonic() < deadline:
        time.sleep(0.02)

    assert fake.disconnected(tag)
    assert fake.disconnected_at(tag) is not None


def test_completed_stream_is_not_reported_as_disconnected(fake: FakeOpenAI, http: httpx.Client) -> None:
    tag = marker()
    stream(http, tag)

    assert not fake.disconnected(tag)
    assert fake.disconnected_at(tag) is None
