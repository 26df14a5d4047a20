"""Anthropic ``system`` and ``messages`` → OpenAI chat messages, one Anthropic turn at a time.

A user turn becomes its ``tool`` messages first (OpenAI wants them right after the assistant's ``tool_calls``),
then one ``user`` message with the rest. An assistant turn becomes one message: its text, all its ``tool_calls``
(parallel calls stay together) and, for thinking the gateway itself signed, ``reasoning_content``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard.common.errors import InvalidRequestError

from .ids import openai_tool_call_id
from .request_blocks import (
    Part,
    document_parts,
    image_part,
    note,
    replay_note,
    require_str,
    search_result_text,
    text_part,
    tool_result_content,
    unknown_type,
)
from .signatures import ThinkingSigner

__all__ = ["openai_messages"]


@dataclass
class _Turn:
    role: str
    strict: bool  # anthropic-version 2026-10-21 rules
    signer: ThinkingSigner
    parts: list[Part] = field(default_factory=list)
    tool_calls: list[Part] = field(default_factory=list)
    tool_messages: list[Part] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    # The last tool_addition/tool_removal note, so a run of them reads "[tools added: a, b]".
    change: tuple[str, list[str], Part] | None = None


def openai_messages(body: dict[str, Any], *, strict: bool, signer: ThinkingSigner) -> list[Part]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InvalidRequestError("messages: Input should be a valid list")
    out = _system_prompt(body.get("system"))
    for index, message in enumerate(messages):
        out.extend(_message(message, f"messages.{index}", strict, signer))
    return out


def _system_prompt(system: object) -> list[Part]:
    """The top-level ``system`` as one leading message; blocks stay separate parts, in order (P19)."""
    if system is None or (isinstance(system, str) and not system.strip()):
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    if not isinstance(system, list):
        raise InvalidRequestError("system: Input should be a valid string or list")
    parts: list[Part] = []
    for index, block in enumerate(system):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind != "text":
            raise unknown_type(f"system.{index}", kind, "system block")
        if require_str(block, "text", f"system.{index}").strip():
            parts.append(text_part(block["text"]))
    return [{"role": "system", "content": parts}] if parts else []


def _message(message: object, path: str, strict: bool, signer: ThinkingSigner) -> list[Part]:
    if not isinstance(message, dict):
        raise InvalidRequestError(f"{path}: Input should be a valid dictionary")
    role = message.get("role")
    if not isinstance(role, str) or role not in _ASSEMBLERS:
        raise InvalidRequestError(f"{path}.role: Input should be 'user', 'assistant' or 'system'")
    content = message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}] if content.strip() else []  # P9
    if not isinstance(content, list):
        raise InvalidRequestError(f"{path}.content: Input should be a valid string or list")
    turn = _Turn(role, strict, signer)
    for index, block in enumerate(content):
        block_path = f"{path}.content.{index}"
        if not isinstance(block, dict):
            raise InvalidRequestError(f"{block_path}: Input should be a valid dictionary")
        _handler(block.get("type"), block_path)(turn, block, block_path)
    return _ASSEMBLERS[role](turn)


Handler = Callable[[_Turn, Part, str], None]


def _handler(kind: object, path: str) -> Handler:
    if isinstance(kind, str) and kind in _HANDLERS:
        return _HANDLERS[kind]
    if isinstance(kind, str) and kind.endswith("_tool_result"):
        return _replayed  # any Anthropic server tool's result, including ones added after this code
    raise unknown_type(path, kind)


def _text(turn: _Turn, block: Part, path: str) -> None:
    text = require_str(block, "text", path)
    if turn.strict and turn.role == "user" and block.get("citations"):
        raise InvalidRequestError(f"{path}.citations: citations are not permitted on text in user messages")
    if text.strip():  # P9: empty text replayed from older sessions is normalised away, not forwarded
        turn.parts.append(text_part(text))


def _image(turn: _Turn, block: Part, path: str) -> None:
    turn.parts.append(image_part(block, path))


def _document(turn: _Turn, block: Part, path: str) -> None:
    if turn.strict and turn.role == "assistant":
        raise InvalidRequestError(f"{path}: document blocks are not permitted in assistant messages")
    turn.parts.extend(document_parts(block, path))


def _search_result(turn: _Turn, block: Part, path: str) -> None:
    turn.parts.append(search_result_text(block))


def _tool_use(turn: _Turn, block: Part, path: str) -> None:
    _require_role(turn, "assistant", path)
    arguments = block.get("input", {})
    if not isinstance(arguments, dict):
        raise InvalidRequestError(f"{path}.input: Input should be a valid dictionary")
    function = {"name": require_str(block, "name", path), "arguments": json.dumps(arguments, ensure_ascii=False)}
    call_id = openai_tool_call_id(require_str(block, "id", path))
    turn.tool_calls.append({"id": call_id, "type": "function", "function": function})


def _tool_result(turn: _Turn, block: Part, path: str) -> None:
    _require_role(turn, "user", path)
    call_id = openai_tool_call_id(require_str(block, "tool_use_id", path))
    turn.tool_messages.append({"role": "tool", "tool_call_id": call_id, "content": tool_result_content(block, path)})


def _thinking(turn: _Turn, block: Part, path: str) -> None:
    # P15/P16: only reasoning this gateway signed goes back, as the provider's own; anything else is dropped,
    # because replaying Anthropic's (or a forged) thinking as the provider's would put words in its mouth.
    thinking, signature = block.get("thinking"), block.get("signature")
    signed = isinstance(thinking, str) and isinstance(signature, str) and turn.signer.verify(thinking, signature)
    if signed and turn.role == "assistant":
        turn.reasoning.append(str(thinking))


def _dropped(turn: _Turn, block: Part, path: str) -> None:
    """``redacted_thinking``: encrypted by Anthropic, unreadable by any other model (P15: never forged)."""


def _replayed(turn: _Turn, block: Part, path: str) -> None:
    turn.parts.append(replay_note(block))


def _tool_change(turn: _Turn, block: Part, path: str) -> None:
    # Degrade: the model learns of the change in words; the tools list of the request itself is not altered.
    verb = "added" if block["type"] == "tool_addition" else "removed"
    tool = block.get("tool")
    fields = tool if isinstance(tool, dict) else {}
    name = str(fields.get("name") or fields.get("tool_name") or fields.get("type"))
    last = turn.parts[-1] if turn.parts else None
    if turn.change is not None and turn.change[0] == verb and last is turn.change[2]:
        turn.change[1].append(name)
        last["text"] = f"[tools {verb}: {', '.join(turn.change[1])}]"
        return
    part = note(f"tools {verb}: {name}")
    turn.parts.append(part)
    turn.change = (verb, [name], part)


def _require_role(turn: _Turn, role: str, path: str) -> None:
    if turn.role != role:
        raise InvalidRequestError(f"{path}: this block type is only allowed in {role} messages")


_HANDLERS: dict[str, Handler] = {
    "text": _text,
    "image": _image,
    "document": _document,
    "search_result": _search_result,
    "tool_use": _tool_use,
    "tool_result": _tool_result,
    "thinking": _thinking,
    "redacted_thinking": _dropped,
    "server_tool_use": _replayed,
    "container_upload": _replayed,
    "tool_reference": _replayed,
    "tool_addition": _tool_change,
    "tool_removal": _tool_change,
}


def _user(turn: _Turn) -> list[Part]:
    return turn.tool_messages + ([{"role": "user", "content": turn.parts}] if turn.parts else [])


def _assistant(turn: _Turn) -> list[Part]:
    # Assistant content is sent as one string: the widest-supported form, and OpenAI cannot place text between
    # tool calls anyway (P14), so block boundaries are all that is lost.
    text = "\n\n".join(_as_text(part, "assistant") for part in turn.parts)
    if not text and not turn.tool_calls:
        return []
    message: Part = {"role": "assistant", "content": text or None}
    if turn.tool_calls:
        message["tool_calls"] = turn.tool_calls
    if turn.reasoning:
        message["reasoning_content"] = "\n\n".join(turn.reasoning)
    return [message]


def _system(turn: _Turn) -> list[Part]:
    parts = [text_part(_as_text(part, "system")) for part in turn.parts]
    return [{"role": "system", "content": parts}] if parts else []


def _as_text(part: Part, role: str) -> str:
    if part["type"] == "text":
        return str(part["text"])
    return f"[{part['type']} content omitted: {role} messages carry only text for this model]"


_ASSEMBLERS: dict[str, Callable[[_Turn], list[Part]]] = {"user": _user, "assistant": _assistant, "system": _system}
