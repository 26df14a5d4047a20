"""What the offline demo model says, as an Anthropic ``Message`` or as the matching SSE event sequence.

It never pretends to be Claude: the model name is ``demo`` and the text says it is a demo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from switchboard.common.ids import new_message_id, new_tool_use_id
from switchboard.orchestrator.token_estimate import estimate_input_tokens, estimate_text_tokens
from switchboard.orchestrator.upstream_errors import dump_json

__all__ = ["DEMO_MODEL", "DemoReply", "message_json", "plan_reply", "sse_events"]

DEMO_MODEL = "demo"
_ECHO_CHARS = 200
_TOOL_WORD = re.compile(r"\btool\b", re.IGNORECASE)
_WORDS_PER_DELTA = 4
_EMPTY_BY_TYPE: dict[str, object] = {"string": "demo", "integer": 0, "number": 0, "boolean": False}


@dataclass(frozen=True)
class DemoReply:
    block: dict[str, Any]
    """The one content block: ``text``, or ``tool_use`` with its final ``input``."""
    stop_reason: str
    input_tokens: int
    output_tokens: int


def plan_reply(body: dict[str, Any]) -> DemoReply:
    said, answered = _last_user_text(body.get("messages"))
    tools = [tool for tool in body.get("tools") or () if isinstance(tool, dict) and tool.get("name")]
    if tools and not answered and _TOOL_WORD.search(said):
        tool = tools[0]
        block = {"type": "tool_use", "id": new_tool_use_id(), "name": tool["name"], "input": _tool_input(tool)}
        return DemoReply(
            block, "tool_use", estimate_input_tokens(body), estimate_text_tokens(dump_json(block["input"]))
        )
    # After a tool call the demo says what the tool answered, rather than calling it again.
    text = f"This is Switchboard's offline demo model. {'The tool answered' if answered else 'You said'}: "
    text += said[:_ECHO_CHARS]
    block = {"type": "text", "text": text}
    return DemoReply(block, "end_turn", estimate_input_tokens(body), estimate_text_tokens(text))


def _last_user_text(messages: object) -> tuple[str, bool]:
    """The text of the last user turn, and whether that turn answers a tool call (its results' text, then)."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content, False
            blocks = [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
            results = [block for block in blocks if block.get("type") == "tool_result"]
            return " ".join(_texts(results or blocks)), bool(results)
    return "", False


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Text of text blocks, and of the text blocks inside tool results (whose content may be a string)."""
    texts: list[str] = []
    for block in blocks:
        inner = block.get("content")
        if isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(inner, str):
            texts.append(inner)
        elif isinstance(inner, list):
            texts += _texts([part for part in inner if isinstance(part, dict)])
    return texts


def _tool_input(tool: dict[str, Any]) -> dict[str, object]:
    """A plausible argument object: a placeholder for each required property whose type is simple."""
    schema = _dict(tool.get("input_schema"))
    properties = _dict(schema.get("properties"))
    values: dict[str, object] = {}
    for name in schema.get("required") or ():
        spec = properties.get(name)
        kind = spec.get("type") if isinstance(spec, dict) else None
        values[name] = _EMPTY_BY_TYPE.get(kind, "demo") if isinstance(kind, str) else "demo"
    return values


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }


def _message(reply: DemoReply, message_id: str, content: list[dict[str, Any]], done: bool) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": DEMO_MODEL,
        "content": content,
        "stop_reason": reply.stop_reason if done else None,
        "stop_sequence": None,
        "usage": _usage(reply.input_tokens, reply.output_tokens if done else 1),
    }


def message_json(reply: DemoReply) -> str:
    return dump_json(_message(reply, new_message_id(), [reply.block], done=True))


def _event(payload: dict[str, Any]) -> str:
    return f"event: {payload['type']}\ndata: {dump_json(payload)}\n\n"


def _deltas(block: dict[str, Any]) -> list[dict[str, str]]:
    if block["type"] == "tool_use":
        arguments = dump_json(block["input"])
        middle = len(arguments) // 2
        return [
            {"type": "input_json_delta", "partial_json": part} for part in ("", arguments[:middle], arguments[middle:])
        ]
    words = block["text"].split(" ")
    chunks = [" ".join(words[i : i + _WORDS_PER_DELTA]) for i in range(0, len(words), _WORDS_PER_DELTA)]
    return [{"type": "text_delta", "text": chunk if i == 0 else " " + chunk} for i, chunk in enumerate(chunks)]


def sse_events(reply: DemoReply) -> list[str]:
    """The full stream: message_start, one block (start, ping, deltas, stop), message_delta, message_stop."""
    start_block = {**reply.block, "input": {}} if reply.block["type"] == "tool_use" else {**reply.block, "text": ""}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": _message(reply, new_message_id(), [], done=False)},
        {"type": "content_block_start", "index": 0, "content_block": start_block},
        {"type": "ping"},
        *({"type": "content_block_delta", "index": 0, "delta": d} for d in _deltas(reply.block)),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": _usage(reply.input_tokens, reply.output_tokens),
        },
        {"type": "message_stop"},
    ]
    return [_event(event) for event in events]
