"""What a response consumed and said, read off the stream or body as it passes (never altering it).

Streaming usage follows Anthropic's rules: ``message_delta`` counts are cumulative, so each field keeps its last
seen value (``message_start`` overwritten by later ``message_delta``s) and nothing is ever summed. A stream cut
before its final usage (client gone, provider dropped, ``event: error``) is billed for the output it carried:
the streamed text, thinking and tool-input characters, about four to a token (see ``billable_tokens``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from switchboard.orchestrator.sse import event_fields
from switchboard.orchestrator.token_estimate import estimate_char_tokens, estimate_input_tokens

__all__ = ["UsageTracker"]

_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_TOOL_BLOCK = "tool_use"
_OUTPUT_DELTA_FIELDS = ("text", "thinking", "partial_json")
"""The fields of a ``content_block_delta`` that carry model output (a signature is not output)."""


@dataclass
class UsageTracker:
    started: float = field(default_factory=time.monotonic)
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_USAGE_FIELDS, 0))
    stop_reason: str | None = None
    tool_names: list[str] = field(default_factory=list)
    first_delta_at: float | None = None
    saw_message_stop: bool = False
    stream_error_type: str | None = None
    """``error.type`` of an ``event: error`` the upstream sent inside a 200 stream."""
    final_usage: bool = False
    """The provider's own output count arrived (a ``message_delta`` with usage, or a whole-body answer)."""
    streamed_deltas: int = 0
    streamed_chars: int = 0
    """Characters of model output seen in ``content_block_delta``s: the estimate when no final usage comes."""

    def observe_event(self, event: bytes) -> None:
        name, data = event_fields(event)
        payload = _json_object(data)
        kind = name or (payload.get("type") if payload else None)
        if payload is None or not isinstance(kind, str):
            return
        handler = _EVENT_HANDLERS.get(kind)
        if handler is not None:
            handler(self, payload)

    def observe_body(self, text: str) -> None:
        """A non-streaming ``Message`` (or a count_tokens answer, which has no usage to record)."""
        payload = _json_object(text)
        if payload is None:
            return
        self.final_usage = True
        self._apply_usage(payload.get("usage"))
        self._set_stop_reason(payload.get("stop_reason"))
        for block in payload.get("content") or ():
            self._note_block(block)

    def settle(self, tokens: dict[str, int]) -> None:
        """Replace the counts by authoritative ones (an agent's sum over its calls, each already settled)."""
        self.tokens.update(tokens)
        self.final_usage = True

    @property
    def usage_estimated(self) -> bool:
        """Output was streamed but the provider never said how much: the output count is an estimate."""
        return not self.final_usage and self.streamed_deltas > 0

    def billable_tokens(self, request_body: bytes | None = None) -> dict[str, int]:
        """The counts to bill: the provider's, or for a cut stream at least the estimate of what it carried.

        ``message_start``'s output count is a placeholder (often 1), so the larger of it and the estimate wins.
        Input comes from ``message_start``; only when that never came is it estimated from ``request_body``.
        """
        tokens = dict(self.tokens)
        if not self.usage_estimated:
            return tokens
        tokens["output_tokens"] = max(tokens["output_tokens"], estimate_char_tokens(self.streamed_chars))
        if tokens["input_tokens"] == 0 and request_body and (body := _json_object(request_body)) is not None:
            tokens["input_tokens"] = estimate_input_tokens(body)
        return tokens

    @property
    def time_to_first_token_ms(self) -> float | None:
        return None if self.first_delta_at is None else (self.first_delta_at - self.started) * 1000

    def _first_delta(self) -> None:
        if self.first_delta_at is None:
            self.first_delta_at = time.monotonic()

    def _on_message_start(self, payload: dict[str, Any]) -> None:
        message = payload.get("message")
        if isinstance(message, dict):
            self._apply_usage(message.get("usage"))

    def _on_message_delta(self, payload: dict[str, Any]) -> None:
        usage = payload.get("usage")
        if isinstance(usage, dict) and "output_tokens" in usage:
            self.final_usage = True
        self._apply_usage(usage)
        delta = payload.get("delta")
        if isinstance(delta, dict):
            self._set_stop_reason(delta.get("stop_reason"))

    def _on_block_delta(self, payload: dict[str, Any]) -> None:
        self._first_delta()
        self.streamed_deltas += 1
        delta = payload.get("delta")
        if isinstance(delta, dict):
            for name in _OUTPUT_DELTA_FIELDS:
                if isinstance(value := delta.get(name), str):
                    self.streamed_chars += len(value)

    def _on_block_start(self, payload: dict[str, Any]) -> None:
        self._note_block(payload.get("content_block"))

    def _on_message_stop(self, payload: dict[str, Any]) -> None:
        self.saw_message_stop = True

    def _on_error(self, payload: dict[str, Any]) -> None:
        error = payload.get("error")
        error_type = error.get("type") if isinstance(error, dict) else None
        self.stream_error_type = error_type if isinstance(error_type, str) else "api_error"

    def _apply_usage(self, usage: object) -> None:
        if not isinstance(usage, dict):
            return
        for name in _USAGE_FIELDS:
            value = usage.get(name)
            # bool is an int subclass; a provider sending true/false here is broken, not counting.
            if isinstance(value, int) and not isinstance(value, bool):
                self.tokens[name] = value

    def _set_stop_reason(self, value: object) -> None:
        if isinstance(value, str):
            self.stop_reason = value

    def _note_block(self, block: object) -> None:
        if isinstance(block, dict) and block.get("type") == _TOOL_BLOCK:
            name = block.get("name")
            self.tool_names.append(name if isinstance(name, str) else "")


_EVENT_HANDLERS = {
    "content_block_delta": UsageTracker._on_block_delta,
    "message_start": UsageTracker._on_message_start,
    "message_delta": UsageTracker._on_message_delta,
    "content_block_start": UsageTracker._on_block_start,
    "message_stop": UsageTracker._on_message_stop,
    "error": UsageTracker._on_error,
}


def _json_object(text: str | bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
