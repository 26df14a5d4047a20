"""The one event stream a streaming client sees, made from every iteration's stream.

``message_start`` goes out once; blocks keep their order with indices that keep increasing across iterations;
MCP ``tool_use`` blocks stay hidden; each iteration's ``message_delta``/``message_stop`` are held back for one
closing pair that carries the final stop reason and the usage summed over all iterations. Everything else
(``ping``, ``error``, event types from the future) passes unchanged. Pure: bytes in, bytes out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from switchboard.common.anthropic import format_sse

__all__ = ["StreamRewriter"]

_BLOCK_EVENTS = frozenset({"content_block_start", "content_block_delta", "content_block_stop"})
_HELD_BACK = frozenset({"message_delta", "message_stop"})


class StreamRewriter:
    def __init__(self, hides: Callable[[dict[str, Any]], bool]) -> None:
        self._hides = hides
        self._started = False
        self._next_index = 0
        self._indices: dict[int, int | None] = {}
        """This iteration's upstream block index -> the client's index, ``None`` for a hidden block."""

    def next_iteration(self) -> None:
        self._indices = {}

    def rewrite(self, kind: str, payload: Mapping[str, Any] | None, raw: bytes) -> bytes:
        """What to send the client for one upstream event (``b""``: nothing)."""
        if kind == "message_start":
            if self._started:
                return b""
            self._started = True
            return raw
        if kind in _HELD_BACK:
            return b""
        if kind in _BLOCK_EVENTS and payload is not None:
            return self._block_event(kind, payload, raw)
        return raw

    def closing(
        self, stop_reason: str | None, stop_sequence: str | None, usage: Mapping[str, int], notice: str | None = None
    ) -> bytes:
        """The end of the client's stream: an optional notice text block, one ``message_delta``, ``message_stop``."""
        events: list[dict[str, Any]] = []
        if notice:
            index = self._allocate()
            events += [
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": notice}},
                {"type": "content_block_stop", "index": index},
            ]
        delta = {"stop_reason": stop_reason, "stop_sequence": stop_sequence}
        events += [{"type": "message_delta", "delta": delta, "usage": dict(usage)}, {"type": "message_stop"}]
        return b"".join(format_sse(event) for event in events)

    def _block_event(self, kind: str, payload: Mapping[str, Any], raw: bytes) -> bytes:
        index = payload.get("index")
        if not isinstance(index, int):
            return raw
        if kind == "content_block_start":
            block = payload.get("content_block")
            hidden = isinstance(block, dict) and self._hides(block)
            self._indices[index] = None if hidden else self._allocate()
        client_index = self._indices.get(index)
        if client_index is None:  # a hidden block, or a delta for a block that never started
            return b""
        if client_index == index:
            return raw  # the common case (first iteration, nothing hidden yet): the provider's bytes, untouched
        return format_sse({**payload, "index": client_index})

    def _allocate(self) -> int:
        index = self._next_index
        self._next_index += 1
        return index
