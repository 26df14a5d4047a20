"""`[[fake:...]]` directives for the fake OpenAI-compatible server: what the next reply should look like.

The grammar of `fakes.directive_scanner` (searched in every string of the JSON body; the first
occurrence of a name wins; `tool_args` takes a JSON object). `tool_calls=N` is honoured only in the last
message, and only if that is a user message, so a tool loop that sends the results back gets text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .directive_scanner import DirectiveError, DirectiveScanner, SharedDirectives, directive_text, malformed_values

__all__ = ["DirectiveError", "Directives", "directive_text", "last_user_text", "parse_directives"]

_SCANNER = DirectiveScanner(json_valued={"tool_args"})
_FINISH_REASONS = frozenset({"stop", "length", "content_filter", "tool_calls"})


@dataclass(frozen=True)
class Directives(SharedDirectives):
    """Defaults mean "behave like a healthy, fast OpenAI-compatible server"."""

    context_length: bool = False
    tool_calls: int = 0
    tool_args: dict[str, Any] | None = None
    split_awkward: bool = False
    interleave: bool = False
    args_at_end: bool = False
    no_tool_ids: bool = False
    reasoning: bool = False
    finish: str | None = None
    vllm_stop: str | None = None
    cached: int = 0
    require_reasoning_roundtrip: bool = False


def parse_directives(text: str, last_user: str) -> Directives:
    """`text`: all strings of the body; `last_user`: the text of the last message if it is a user message."""
    raw = _SCANNER.scan(text)
    with malformed_values():
        directives = Directives.from_raw(
            raw,
            context_length="context_length" in raw,
            tool_calls=_SCANNER.scan(last_user).integer("tool_calls") or 0,
            tool_args=raw.json_object("tool_args"),
            split_awkward=_split(raw.text("split")),
            interleave="interleave" in raw,
            args_at_end="args_at_end" in raw,
            no_tool_ids="no_tool_ids" in raw,
            reasoning="reasoning" in raw,
            finish=raw.text("finish"),
            vllm_stop=raw.text("vllm_stop"),
            cached=raw.integer("cached") or 0,
            require_reasoning_roundtrip="require_reasoning_roundtrip" in raw,
        )
    if directives.finish is not None and directives.finish not in _FINISH_REASONS:
        raise DirectiveError(f"bad fake directive: finish={directives.finish!r}")
    return directives


def last_user_text(body: dict[str, Any]) -> str:
    """Strings of the last message when it is a user message, else "" (a tool result ends the loop)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return ""
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return ""
    return directive_text(last.get("content"))


def _split(value: str | None) -> bool:
    if value not in (None, "awkward"):
        raise DirectiveError(f"bad fake directive: split={value!r} (only split=awkward)")
    return value == "awkward"
