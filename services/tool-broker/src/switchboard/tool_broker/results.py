"""What a connector's ``ToolResult`` becomes in a ``ToolCallCompleted``: Anthropic content blocks, capped in size.

Sizes are bytes of compact UTF-8 JSON, which is what the blocks cost on the bus and in the model's context.
"""

from __future__ import annotations

import json

from switchboard.common.mcp_protocol import ToolResult

__all__ = ["cap_content", "content_size", "result_content", "text_content"]

_EMPTY_TEXT_BLOCK_BYTES = len(json.dumps({"type": "text", "text": ""}, separators=(",", ":")))


def content_size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def text_content(text: str) -> list[dict[str, object]]:
    return [{"type": "text", "text": text}]


def result_content(result: ToolResult) -> tuple[bool, list[dict[str, object]]]:
    """``(is_error, content)`` of a connector's answer."""
    blocks = _blocks(result.content)
    if result.success:
        return False, blocks
    if result.error:
        return True, text_content(result.error)
    return True, blocks or text_content("the tool failed")


def _blocks(content: str | list[dict[str, object]] | None) -> list[dict[str, object]]:
    if content is None:
        return []
    if isinstance(content, str):
        # Anthropic refuses empty text blocks: an empty answer is no content at all.
        return text_content(content) if content else []
    return [block for block in content if isinstance(block.get("type"), str)]


def cap_content(content: list[dict[str, object]], limit: int, reason: str = "") -> tuple[list[dict[str, object]], bool]:
    """``content`` if it fits in ``limit`` bytes, else a cut-down copy ending with a note; and whether it was cut.

    Whole blocks are kept in order while they fit; the first text block that does not fit is cut to fill what is
    left, other blocks that do not fit are dropped. The note names both sizes (and ``reason``, when given).
    """
    original = content_size(content)
    if original <= limit:
        return content, False
    note_room = content_size([_note(original, original, reason)]) + 1  # +1: the comma before it
    kept = _keep_within(content, max(limit - note_room, 2))
    return [*kept, _note(original, content_size(kept), reason)], True


def _note(original: int, kept: int, reason: str) -> dict[str, object]:
    suffix = f" {reason}" if reason else ""
    return {"type": "text", "text": f"[switchboard: tool result truncated from {original} to {kept} bytes{suffix}]"}


def _keep_within(content: list[dict[str, object]], budget: int) -> list[dict[str, object]]:
    kept: list[dict[str, object]] = []
    used = 2  # the enclosing brackets
    for block in content:
        comma = 1 if kept else 0
        cost = content_size(block) + comma
        if used + cost <= budget:
            kept.append(block)
            used += cost
            continue
        text = block.get("text")
        room = budget - used - comma - _EMPTY_TEXT_BLOCK_BYTES
        if block.get("type") == "text" and isinstance(text, str) and room > 0:
            kept.append({"type": "text", "text": _prefix_within(text, room)})
            break  # the budget is spent
    return kept


def _prefix_within(text: str, room: int) -> str:
    """The longest prefix of ``text`` whose JSON string body takes at most ``room`` bytes."""
    low, high = 0, min(len(text), room)  # a character takes at least one byte
    if content_size(text[:high]) - 2 <= room:
        return text[:high]  # plain ASCII text: no search needed
    while low < high:
        middle = (low + high + 1) // 2
        if content_size(text[:middle]) - 2 <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low]
