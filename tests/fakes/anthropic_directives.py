"""`[[fake:...]]` directives: how a test tells the fake provider what to answer.

Directives are read from every string in the JSON request body (message text, system prompt, tool
descriptions, metadata...), so they work whatever the message shape and JSON escaping. The first
occurrence of a name wins. `tool_use` alone is only honoured in the last user message, so a
conversation that returns the tool result gets a text answer instead of looping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["DirectiveError", "Directives", "directive_text", "parse_directives"]

_OPENING = re.compile(r"\[\[fake:([a-z_]+)")
_JSON_VALUED = frozenset({"tool_input", "usage"})
_DECODER = json.JSONDecoder()
_T = TypeVar("_T")


class DirectiveError(ValueError):
    """A directive is malformed; the fake answers 400 so the test author sees why."""


@dataclass(frozen=True)
class Directives:
    """What the reply should look like; defaults mean "behave like a healthy, fast API"."""

    status: int | None = None
    status_times: int | None = None
    text: str | None = None
    words: int | None = None
    delay: float = 0.0
    word_delay: float = 0.0
    stall_after: tuple[int, float] | None = None
    drop_after: int | None = None
    midstream_error: int | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    stop_sequence: str | None = None
    thinking: bool = False
    unknown_event: bool = False
    tool_use: bool = False
    tool_input: dict[str, Any] | None = None


def directive_text(body: Any) -> str:
    """All strings of a parsed JSON body, newline-joined: the text directives are searched in."""
    return "\n".join(_strings(body))


def parse_directives(text: str, last_user_text: str) -> Directives:
    raw = _scan(text)
    try:
        return Directives(
            status=_opt(raw, "status", int),
            status_times=_opt(raw, "status_times", int),
            text=raw.get("text"),
            words=_opt(raw, "words", int),
            delay=_opt(raw, "delay", float) or 0.0,
            word_delay=_opt(raw, "word_delay", float) or 0.0,
            stall_after=_stall(raw.get("stall_after")),
            drop_after=_opt(raw, "drop_after", int),
            midstream_error=_opt(raw, "midstream_error", int),
            usage=_object(raw, "usage") or {},
            stop_sequence=raw.get("stop_sequence"),
            thinking="thinking" in raw,
            unknown_event="unknown_event" in raw,
            tool_use="[[fake:tool_use]]" in last_user_text,
            tool_input=_object(raw, "tool_input"),
        )
    except (TypeError, ValueError) as exc:
        raise DirectiveError(f"bad fake directive: {exc}") from exc


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _scan(text: str) -> dict[str, str]:
    """Map directive name to its raw value ("" for flags like `[[fake:thinking]]`)."""
    found: dict[str, str] = {}
    position = 0
    while match := _OPENING.search(text, position):
        name, value, position = _read_value(text, match.group(1), match.end())
        found.setdefault(name, value)
    return found


def _read_value(text: str, name: str, index: int) -> tuple[str, str, int]:
    if text.startswith("]]", index):
        return name, "", index + 2
    if not text.startswith("=", index):
        raise DirectiveError(f"bad fake directive {name!r}: expected '=' or ']]'")
    index += 1
    if name in _JSON_VALUED:
        try:
            _, end = _DECODER.raw_decode(text, index)
        except ValueError as exc:
            raise DirectiveError(f"fake directive {name!r} needs a JSON value: {exc}") from exc
    else:
        end = text.find("]]", index)
    if end < 0 or not text.startswith("]]", end):
        raise DirectiveError(f"fake directive {name!r} is not closed with ']]'")
    return name, text[index:end], end + 2


def _opt(raw: dict[str, str], name: str, convert: Callable[[str], _T]) -> _T | None:
    return convert(raw[name]) if name in raw else None


def _object(raw: dict[str, str], name: str) -> dict[str, Any] | None:
    if name not in raw:
        return None
    value = json.loads(raw[name])
    if not isinstance(value, dict):
        raise DirectiveError(f"fake directive {name!r} must be a JSON object")
    return value


def _stall(value: str | None) -> tuple[int, float] | None:
    if value is None:
        return None
    after, _, seconds = value.partition(",")
    return int(after), float(seconds)
