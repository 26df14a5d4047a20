"""Agent-mode requests as the gateway sends them, and the client's view of their answers."""

from __future__ import annotations

import json
import uuid
from typing import Any

from integration.orchestrator.orchestrator_harness import ROUTES, Gateway, Reply, message_body
from support.anthropic_stream_grammar import assert_valid_anthropic_stream
from switchboard.common.events import CompletionRecorded
from switchboard.orchestrator.sse import SseSplitter, event_fields

AGENT_ROUTES: dict[str, Any] = {
    **ROUTES,
    "agent_config": {
        "bounded": {"max_iterations": 3},
        "impatient": {"tool_timeout": 0.3},
        "coder": {
            "model": "claude-sonnet-4-5",
            "system": "You are the coder agent.",
            "tools": ["mcp__notes__*"],
            "aliases": ["switchboard-coder"],
        },
    },
}
USAGE = {"input_tokens": 100, "output_tokens": 7, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 3}
WEATHER = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}


def marked(prompt: str) -> tuple[str, str]:
    marker = f"agent-{uuid.uuid4().hex}"
    return f"{prompt} {marker}", marker


async def ask(
    gateway: Gateway, prompt: str, *, stream: bool = False, agent: str | None = "default", **extra: Any
) -> Reply:
    model = extra.pop("model", "claude-sonnet-4-5")
    headers = {"x-switchboard-agent": agent} if agent else {}
    body = message_body(prompt, model=model, stream=stream, **extra)
    return await gateway.call(gateway.request(body, model=model, stream=stream, headers=headers), timeout=20)


def sse_events(reply: Reply) -> list[tuple[str, dict[str, Any]]]:
    splitter = SseSplitter()
    events = splitter.feed(reply.data("sse").encode())
    parsed = []
    for event in events:
        name, data = event_fields(event)
        assert name is not None
        parsed.append((name, json.loads(data)))
    return parsed


def answer(reply: Reply) -> dict[str, Any]:
    """The client's Message, from a body or (checked for grammar on the way) from a stream."""
    if "body" in reply.kinds():
        message: dict[str, Any] = json.loads(reply.only("body").data)
        return message
    return assert_valid_anthropic_stream(sse_events(reply))


def texts(message: dict[str, Any]) -> list[str]:
    return [block["text"] for block in message["content"] if block["type"] == "text"]


async def completion_of(gateway: Gateway, reply: Reply) -> CompletionRecorded:
    completion, _ = await gateway.completion(reply.request.user_id)
    assert completion.request_id == reply.request.request_id
    return completion
