"""Scripted assistant turns: what the fake provider answers, as a Message or as a list of stream steps.

Pure functions, no I/O: `plan_reply` decides the content, `message_json` renders it whole, and
`stream_steps` renders it as the SSE event sequence interleaved with pauses and faults that the
provider then plays on the wire.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .anthropic_agent_turns import agent_blocks
from .anthropic_directives import Directives
from .anthropic_wire import new_id
from .delta_pacer import DeltaPacer, Drop, Pause

__all__ = [
    "DEFAULT_TEXT",
    "Drop",
    "Emit",
    "Pause",
    "Reply",
    "Step",
    "estimate_input_tokens",
    "message_json",
    "plan_reply",
    "stream_steps",
]

DEFAULT_TEXT = "Hello from the fake provider."
_TOOL_PREAMBLE = "Let me check."
_THINKING_TEXT = "Let me think about how to answer this."
_DEFAULT_TOOL_INPUT: dict[str, Any] = {"location": "Paris"}
_JSON_CHUNK = 7
_OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


@dataclass(frozen=True)
class Emit:
    """Send one SSE event. An `error` event is terminal: the stream ends right after it."""

    event: str
    payload: dict[str, Any]


Step = Emit | Pause | Drop


@dataclass(frozen=True)
class Reply:
    """One assistant turn; `blocks` are Message content blocks in their non-streaming form."""

    message_id: str
    model: str
    blocks: tuple[dict[str, Any], ...]
    stop_reason: str
    stop_sequence: str | None
    usage: dict[str, Any]


def estimate_input_tokens(body: dict[str, Any]) -> int:
    """Deterministic token estimate over system, messages and tools (same for create and count_tokens)."""
    counted = {key: body[key] for key in ("system", "messages", "tools") if key in body}
    return max(1, len(json.dumps(counted, sort_keys=True, separators=(",", ":"))) // 4)


def plan_reply(body: dict[str, Any], directives: Directives) -> Reply:
    blocks = _blocks(body, directives)
    has_tool_use = any(block["type"] == "tool_use" for block in blocks)
    stop_sequence = None if has_tool_use else directives.stop_sequence
    stop_reason = "tool_use" if has_tool_use else "stop_sequence" if stop_sequence else "end_turn"
    cache_creation = int(directives.usage.get("cache_creation_input_tokens", 0))
    usage: dict[str, Any] = {
        "input_tokens": estimate_input_tokens(body),
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_creation, "ephemeral_1h_input_tokens": 0},
        "output_tokens": _output_tokens(blocks),
        "service_tier": "standard",
    }
    usage.update(directives.usage)
    return Reply(new_id("msg"), str(body.get("model", "")), blocks, stop_reason, stop_sequence, usage)


def message_json(reply: Reply) -> dict[str, Any]:
    return {
        **_message_head(reply),
        "content": list(reply.blocks),
        "stop_reason": reply.stop_reason,
        "stop_sequence": reply.stop_sequence,
        "stop_details": None,
        "usage": reply.usage,
    }


def stream_steps(reply: Reply, directives: Directives) -> Iterator[Step]:
    """Anthropic's event order: message_start, blocks (ping after the first start), message_delta, stop."""
    start_usage = {**reply.usage, "output_tokens": 1}
    message = {
        **_message_head(reply),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "stop_details": None,
        "usage": start_usage,
    }
    yield Emit("message_start", {"type": "message_start", "message": message})
    if directives.unknown_event:
        # An event type from the future: clients must tolerate it and pass-through gateways must forward it.
        yield Emit("future_event", {"type": "future_event", "detail": {"k": [1, 2]}})
    pacer = DeltaPacer(directives, Emit("error", _OVERLOADED))
    for index, block in enumerate(reply.blocks):
        yield _event("content_block_start", index=index, content_block=_empty(block))
        if index == 0:
            yield Emit("ping", {"type": "ping"})
        yield from _block_deltas(index, block, pacer)
        yield _event("content_block_stop", index=index)
    delta = {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence}
    yield _event("message_delta", delta=delta, usage={"output_tokens": reply.usage["output_tokens"]})
    yield _event("message_stop")


def _blocks(body: dict[str, Any], directives: Directives) -> tuple[dict[str, Any], ...]:
    blocks: list[dict[str, Any]] = []
    if directives.thinking:
        signature = base64.b64encode(secrets.token_bytes(48)).decode()
        blocks.append({"type": "thinking", "thinking": _THINKING_TEXT, "signature": signature})
    tools = body.get("tools")
    if (agent := agent_blocks(body, directives)) is not None:
        blocks.extend(agent)
    elif directives.tool_use and isinstance(tools, list) and tools:
        first = tools[0] if isinstance(tools[0], dict) else {}
        blocks.append({"type": "text", "text": directives.text or _TOOL_PREAMBLE})
        tool_input = directives.tool_input if directives.tool_input is not None else _DEFAULT_TOOL_INPUT
        blocks.append(
            {"type": "tool_use", "id": new_id("toolu"), "name": str(first.get("name", "tool")), "input": tool_input}
        )
    else:
        blocks.append({"type": "text", "text": _reply_text(directives)})
    return tuple(blocks)


def _reply_text(directives: Directives) -> str:
    if directives.text is not None:
        return directives.text
    if directives.words is not None:
        return " ".join(f"word{n}" for n in range(1, directives.words + 1))
    return DEFAULT_TEXT


def _output_tokens(blocks: tuple[dict[str, Any], ...]) -> int:
    fields = {"text": "text", "thinking": "thinking"}
    texts = [
        block[fields[block["type"]]] if block["type"] in fields else json.dumps(block["input"]) for block in blocks
    ]
    return max(1, sum(len(text.split()) for text in texts))


def _message_head(reply: Reply) -> dict[str, Any]:
    return {"id": reply.message_id, "type": "message", "role": "assistant", "model": reply.model}


def _event(event: str, **fields: Any) -> Emit:
    return Emit(event, {"type": event, **fields})


def _empty(block: dict[str, Any]) -> dict[str, Any]:
    """The block as content_block_start carries it: text and arguments still to come."""
    if block["type"] == "text":
        return {"type": "text", "text": ""}
    if block["type"] == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    return {**block, "input": {}}


def _block_deltas(index: int, block: dict[str, Any], pacer: DeltaPacer[Emit]) -> Iterator[Step]:
    if block["type"] == "text":
        words = _words(block["text"])
        yield from pacer.pace(
            _event("content_block_delta", index=index, delta={"type": "text_delta", "text": word}) for word in words
        )
    elif block["type"] == "thinking":
        for word in _words(block["thinking"]):
            yield _event("content_block_delta", index=index, delta={"type": "thinking_delta", "thinking": word})
        signature = {"type": "signature_delta", "signature": block["signature"]}
        yield _event("content_block_delta", index=index, delta=signature)
    else:
        arguments = json.dumps(block["input"])
        chunks = [""] + [arguments[i : i + _JSON_CHUNK] for i in range(0, len(arguments), _JSON_CHUNK)]
        for chunk in chunks:
            delta = {"type": "input_json_delta", "partial_json": chunk}
            yield _event("content_block_delta", index=index, delta=delta)


def _words(text: str) -> list[str]:
    """One piece per word, each keeping its trailing whitespace, so the pieces join back to `text`."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
