"""`[[fake:...]]` directives: how a test tells the fake provider what to answer.

Directives are read from every string in the JSON request body (message text, system prompt, tool
descriptions, metadata...), so they work whatever the message shape and JSON escaping. The first
occurrence of a name wins. `tool_use` alone is only honoured in the last user message, so a
conversation that returns the tool result gets a text answer instead of looping. `agent_calls` and
`agent_calls_forever` script a server-side tool loop (see `fakes.anthropic_agent_turns`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .directive_scanner import DirectiveError, DirectiveScanner, SharedDirectives, directive_text, malformed_values

__all__ = ["DirectiveError", "Directives", "directive_text", "parse_directives"]

_SCANNER = DirectiveScanner(json_valued={"tool_input", "usage"})


@dataclass(frozen=True)
class Directives(SharedDirectives):
    """What the reply should look like; defaults mean "behave like a healthy, fast API"."""

    usage: dict[str, Any] = field(default_factory=dict)
    stop_sequence: str | None = None
    thinking: bool = False
    unknown_event: bool = False
    tool_use: bool = False
    tool_input: dict[str, Any] | None = None
    agent_calls: tuple[str, ...] | None = None
    agent_calls_forever: str | None = None


def parse_directives(text: str, last_user_text: str) -> Directives:
    raw = _SCANNER.scan(text)
    with malformed_values():
        return Directives.from_raw(
            raw,
            usage=raw.json_object("usage") or {},
            stop_sequence=raw.text("stop_sequence"),
            thinking="thinking" in raw,
            unknown_event="unknown_event" in raw,
            tool_use="[[fake:tool_use]]" in last_user_text,
            tool_input=raw.json_object("tool_input"),
            agent_calls=_names(raw.text("agent_calls")),
            agent_calls_forever=raw.text("agent_calls_forever"),
        )


def _names(value: str | None) -> tuple[str, ...] | None:
    """`A, B` as `("A", "B")`."""
    if value is None:
        return None
    return tuple(name.strip() for name in value.split(",") if name.strip())
