"""The happy path through a real NATS and a real HTTP upstream: frames, bytes and headers pass unchanged."""

from __future__ import annotations

import json
import re

import httpx

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.orchestrator_harness import Gateway, message_body

# Odd spacing, unicode, unknown fields and cache_control: any re-serialisation would show.
ODD_BODY = (
    '{ "model" : "claude-sonnet-4-5", "max_tokens":64,  "x_future_field": {"keep": [1, 2.50, null]},\n'
    ' "system": [{"type": "text", "text": "sys \\u00e9", "cache_control": {"type": "ephemeral"}}],\n'
    ' "messages": [{"role": "user", "content": "h\u00e9llo [[fake:words=12]] MARKER"}]%s }'
)
HEADERS = {"anthropic-beta": "x-future-2099-01-01,context-1m-2025-08-07", "x-claude-code-session-id": "s1"}
_RANDOM_IDS = re.compile(r"(msg|toolu|req)_[A-Za-z0-9]{24}")


def normalised(text: str) -> str:
    return _RANDOM_IDS.sub(r"\1_X", text)


def direct(fake: FakeAnthropic, body: str) -> str:
    """What the fake answers the same body when asked directly (ids differ between any two answers)."""
    headers = {"x-api-key": fake.api_key, "anthropic-version": "2023-06-01", "content-type": "application/json"}
    return httpx.post(f"{fake.url}/v1/messages", content=body.encode(), headers=headers).text


async def test_streaming_frames_and_bytes(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    marker = "MARKER-stream-1"
    body = ODD_BODY.replace("MARKER", marker) % ', "stream": true'
    reply = await gateway.call(gateway.request(body, stream=True, headers=HEADERS, query="beta=true"))

    kinds = reply.kinds()
    assert kinds[:2] == ["accepted", "response_head"]
    assert kinds[-1] == "end"
    assert set(kinds[2:-1]) == {"sse"}
    assert reply.only("response_head").status == 200
    for frame in reply.frames:
        if frame.kind == "sse":
            assert frame.data.endswith("\n\n")  # whole events only
            assert not frame.more
    assert normalised(reply.data("sse")) == normalised(direct(fake_anthropic, body))

    upstream = fake_anthropic.requests_with_marker(marker)[0]  # [1] is the direct call
    assert upstream.body == body.encode()
    assert upstream.query == "beta=true"
    assert upstream.headers["anthropic-beta"] == HEADERS["anthropic-beta"]
    assert upstream.headers["x-claude-code-session-id"] == "s1"
    assert upstream.headers["anthropic-version"] == "2023-06-01"
    assert upstream.headers["x-api-key"] == fake_anthropic.api_key
    assert upstream.headers["content-type"] == "application/json"


async def test_non_streaming_body_is_passed_unchanged(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    marker = "MARKER-body-1"
    body = ODD_BODY.replace("MARKER", marker) % ""
    reply = await gateway.call(gateway.request(body, api_version="2026-10-21"))

    assert reply.kinds() == ["accepted", "body", "end"]
    frame = reply.only("body")
    assert frame.status == 200
    assert normalised(frame.data) == normalised(direct(fake_anthropic, body))
    upstream = fake_anthropic.requests_with_marker(marker)[0]
    assert upstream.body == body.encode()
    assert upstream.headers["anthropic-version"] == "2026-10-21"


async def test_alias_rewrites_only_the_model(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    body = message_body("alias MARKER-alias", model="alias-sonnet", metadata={"user_id": "u"})
    reply = await gateway.call(gateway.request(body, model="alias-sonnet"))

    assert reply.kinds() == ["accepted", "body", "end"]
    (upstream,) = fake_anthropic.requests_with_marker("MARKER-alias")
    assert upstream.json == {**json.loads(body), "model": "claude-sonnet-4-5-20250929"}
    assert json.loads(reply.only("body").data)["model"] == "claude-sonnet-4-5-20250929"


async def test_count_tokens_is_forwarded(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    body = json.dumps({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "MARKER-count"}]})
    reply = await gateway.call(gateway.request(body, endpoint="count_tokens", query="beta=true"))

    assert reply.kinds() == ["accepted", "body", "end"]
    assert json.loads(reply.only("body").data)["input_tokens"] > 0
    (upstream,) = fake_anthropic.requests_with_marker("MARKER-count")
    assert upstream.path == "/v1/messages/count_tokens"
