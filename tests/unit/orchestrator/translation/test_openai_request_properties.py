"""Property: translating a valid Anthropic request loses no text, tool, tool call, tool result or image."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.orchestrator.translation.anthropic_openai.request import to_openai_request
from switchboard.orchestrator.translation.anthropic_openai.signatures import ThinkingSigner

Body = dict[str, Any]

TEXTS = st.text(max_size=24)
NAMES = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=12)
BASE64 = st.text(string.ascii_letters + string.digits + "+/", min_size=4, max_size=24)


def text_block(value: str) -> Body:
    return {"type": "text", "text": value}


IMAGES = st.one_of(
    BASE64.map(lambda data: {"type": "base64", "media_type": "image/png", "data": data}),
    NAMES.map(lambda name: {"type": "url", "url": f"https://img.test/{name}.png"}),
).map(lambda source: {"type": "image", "source": source})
USER_BLOCKS = st.one_of(TEXTS.map(text_block), IMAGES)
RESULT_CONTENT = st.one_of(TEXTS, st.lists(USER_BLOCKS, max_size=3))
TOOLS = st.lists(
    st.builds(
        lambda name, description: {
            "name": name,
            "description": description,
            "input_schema": {"type": "object", "properties": {"x": {"type": "string"}}},
        },
        NAMES,
        TEXTS,
    ),
    max_size=3,
    unique_by=lambda tool: str(tool["name"]),
)
SYSTEMS = st.one_of(st.none(), TEXTS, st.lists(TEXTS.map(text_block), max_size=3))


@st.composite
def requests(draw: st.DrawFn) -> Body:
    tools = draw(TOOLS)
    tool_names = st.sampled_from([tool["name"] for tool in tools]) if tools else NAMES
    messages: list[Body] = []
    pending: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        messages.append(_user_turn(draw, pending))
        pending = [f"toolu_{len(messages)}_{n}" for n in range(draw(st.integers(0, 3)))]
        uses = [{"type": "tool_use", "id": i, "name": draw(tool_names), "input": {"x": draw(TEXTS)}} for i in pending]
        texts = [text_block(value) for value in draw(st.lists(TEXTS, max_size=2))]
        messages.append({"role": "assistant", "content": draw(st.permutations(texts + uses))})
    if pending:
        messages.append(_user_turn(draw, pending))
    body: Body = {"model": "m", "max_tokens": 256, "messages": messages, "tools": tools}
    system = draw(SYSTEMS)
    return body if system is None else {**body, "system": system}


def _user_turn(draw: st.DrawFn, pending: list[str]) -> Body:
    results = [
        {"type": "tool_result", "tool_use_id": i, "content": draw(RESULT_CONTENT), "is_error": draw(st.booleans())}
        for i in pending
    ]
    if not results and draw(st.booleans()):
        return {"role": "user", "content": draw(TEXTS)}
    return {"role": "user", "content": results + draw(st.lists(USER_BLOCKS, min_size=0 if results else 1, max_size=3))}


def _walk(value: Any) -> Iterator[Body]:
    """Every block-like dict in an Anthropic body, nested ones included."""
    if isinstance(value, dict):
        yield value
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _contents(out: Body) -> Iterator[Any]:
    for message in out["messages"]:
        content = message.get("content")
        yield from [content] if isinstance(content, str) else content or []


@settings(max_examples=200, deadline=None)
@given(requests())
def test_nothing_is_lost(body: Body) -> None:
    out = to_openai_request(body, upstream_model="up", api_version="2023-06-01", signer=ThinkingSigner(b"k"))
    json.dumps(out)
    contents = list(_contents(out))
    texts = [c if isinstance(c, str) else c["text"] for c in contents if isinstance(c, str) or c["type"] == "text"]
    urls = [c["image_url"]["url"] for c in contents if isinstance(c, dict) and c["type"] == "image_url"]
    blocks = list(_walk([body.get("system"), body["messages"]]))
    wanted = [s for s in [body.get("system")] + [m["content"] for m in body["messages"]] if isinstance(s, str)]
    wanted += [b["text"] for b in blocks if b.get("type") == "text"]
    wanted += [b["content"] for b in blocks if b.get("type") == "tool_result" and isinstance(b["content"], str)]
    for value in wanted:
        assert not value.strip() or any(value in found for found in texts), value
    for block in blocks:
        if block.get("type") == "image":
            assert any(block["source"].get("data", block["source"].get("url")) in url for url in urls)
    assert {tool["name"] for tool in body["tools"]} == {t["function"]["name"] for t in out.get("tools", [])}
    calls = [c["id"] for m in out["messages"] for c in m.get("tool_calls", [])]
    assert calls == [b["id"] for b in blocks if b.get("type") == "tool_use"]
    results = [m["tool_call_id"] for m in out["messages"] if m["role"] == "tool"]
    assert results == [b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"]
