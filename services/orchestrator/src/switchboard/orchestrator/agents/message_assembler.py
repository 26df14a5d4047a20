"""Content blocks rebuilt from a message's stream events, and the one ``Message`` a non-streaming client gets.

Blocks keep every field their ``content_block_start`` carried (signatures, citations, ids, unknown block types),
with their deltas applied: text, thinking, signatures, citations and tool input JSON.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from typing import Any

__all__ = ["BlockAssembler", "assemble_message"]

logger = logging.getLogger(__name__)


class BlockAssembler:
    def __init__(self) -> None:
        self._blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, list[str]] = {}

    def observe(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Feed one event (``content_block_*``; others are ignored)."""
        index = payload.get("index")
        if not isinstance(index, int):
            return
        if kind == "content_block_start" and isinstance(block := payload.get("content_block"), dict):
            self._blocks[index] = copy.deepcopy(block)
        elif (
            kind == "content_block_delta" and index in self._blocks and isinstance(delta := payload.get("delta"), dict)
        ):
            self._apply(index, delta)
        elif kind == "content_block_stop" and index in self._json:
            self._finish_input(index)

    def blocks(self) -> list[dict[str, Any]]:
        """The blocks so far, in index order (a block whose stop never came keeps the input it had)."""
        return [self._blocks[index] for index in sorted(self._blocks)]

    def _apply(self, index: int, delta: dict[str, Any]) -> None:
        block, kind = self._blocks[index], delta.get("type")
        if kind == "text_delta":
            block["text"] = str(block.get("text") or "") + str(delta.get("text", ""))
        elif kind == "thinking_delta":
            block["thinking"] = str(block.get("thinking") or "") + str(delta.get("thinking", ""))
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature", "")
        elif kind == "citations_delta":
            block["citations"] = [*(block.get("citations") or []), delta.get("citation")]
        elif kind == "input_json_delta":
            self._json.setdefault(index, []).append(str(delta.get("partial_json", "")))

    def _finish_input(self, index: int) -> None:
        text = "".join(self._json.pop(index))
        if not text:
            return  # no argument bytes: the input from content_block_start stands
        try:
            self._blocks[index]["input"] = json.loads(text)
        except ValueError:
            logger.warning("a tool_use block carried invalid input JSON; kept as an empty object")
            self._blocks[index]["input"] = {}


def assemble_message(
    first: Mapping[str, Any],
    content: list[dict[str, Any]],
    stop_reason: str | None,
    stop_sequence: str | None,
    usage: Mapping[str, int],
) -> dict[str, Any]:
    """One ``Message``: id and model from the first iteration's ``message_start``, content of every iteration."""
    return {
        "id": first.get("id", ""),
        "type": "message",
        "role": "assistant",
        "model": first.get("model", ""),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": dict(usage),
    }
