"""The LiteLLM test harness: a real LiteLLM proxy in front of the fake OpenAI server, offline."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.openai_provider import FakeOpenAI
from fakes.openai_scripts import estimate_prompt_tokens
from support.litellm_proxy import LiteLLMProxy

pytestmark = [pytest.mark.litellm, pytest.mark.timeout(300)]  # the first test also pays the proxy startup

MODELS = ["gpt-fake", "gpt-fake-mini"]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteLLMProxy]:
    with LiteLLMProxy(fake.url, fake.api_key, MODELS, tmp_path_factory.mktemp("litellm")) as running:
        yield running


@pytest.fixture
def http(proxy: LiteLLMProxy) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {proxy.master_key}"}
    with httpx.Client(base_url=proxy.url, headers=headers, timeout=60) as client:
        yield client


def tool_request(tag: str, **extra: Any) -> dict[str, Any]:
    content = f"weather in Paris? {tag} [[fake:tool_calls=1]]"
    return {"model": "gpt-fake", "messages": [{"role": "user", "content": content}], "tools": TOOLS, **extra}


def expected_usage(fake: FakeOpenAI, tag: str) -> tuple[int, int]:
    [upstream] = fake.requests_with_marker(tag)
    assert upstream.path == "/v1/chat/completions"
    assert upstream.headers["authorization"] == f"Bearer {fake.api_key}"
    arguments = json.dumps({"location": "Paris", "i": 0})
    return estimate_prompt_tokens(upstream.json), len(arguments.split())


def test_non_streaming_tool_call_is_forwarded_and_relayed(fake: FakeOpenAI, http: httpx.Client) -> None:
    tag = f"marker-{uuid.uuid4().hex}"
    response = http.post("/v1/chat/completions", json=tool_request(tag))

    assert response.status_code == 200, response.text
    [choice] = response.json()["choices"]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"location": "Paris", "i": 0}
    prompt, completion = expected_usage(fake, tag)
    usage = response.json()["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (prompt, completion)


def test_streaming_tool_call_and_usage_are_relayed(fake: FakeOpenAI, http: httpx.Client) -> None:
    tag = f"marker-{uuid.uuid4().hex}"
    body = tool_request(tag, stream=True, stream_options={"include_usage": True})
    response = http.post("/v1/chat/completions", json=body)

    assert response.status_code == 200, response.text
    frames = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    fragments = [
        call for chunk in chunks for choice in chunk["choices"] for call in choice["delta"].get("tool_calls") or []
    ]
    assert {fragment["index"] for fragment in fragments} == {0}
    assert [fragment["function"]["name"] for fragment in fragments if fragment.get("id")] == ["get_weather"]
    arguments = "".join(fragment["function"].get("arguments") or "" for fragment in fragments)
    assert json.loads(arguments) == {"location": "Paris", "i": 0}
    # LiteLLM leaves `finish_reason` out of intermediate chunks instead of sending null.
    finishes = [choice.get("finish_reason") for chunk in chunks for choice in chunk["choices"]]
    assert [finish for finish in finishes if finish] == ["tool_calls"]
    usage = [chunk["usage"] for chunk in chunks if chunk.get("usage")][-1]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == expected_usage(fake, tag)
    assert fake.requests_with_marker(tag)[0].json["stream"] is True


def test_models_lists_the_configured_models(http: httpx.Client) -> None:
    listing = http.get("/v1/models").json()

    assert sorted(model["id"] for model in listing["data"]) == MODELS


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer sk-wrong"}])
def test_proxy_rejects_requests_without_the_master_key(
    fake: FakeOpenAI, proxy: LiteLLMProxy, headers: dict[str, str]
) -> None:
    tag = f"marker-{uuid.uuid4().hex}"
    response = httpx.post(f"{proxy.url}/v1/chat/completions", json=tool_request(tag), headers=headers, timeout=30)

    # LiteLLM 1.108.7 answers 500 without a key (its auth error path imports `prisma`, which only the
    # database extra installs) and 400 for a wrong one. What matters here is that nothing goes upstream.
    assert response.status_code >= 400
    assert fake.requests_with_marker(tag) == []
