"""`[[fake:...]]` directives for the fake OpenAI-compatible server: what the next reply should look like.

Same grammar as `fakes.anthropic_directives` (searched in every string of the JSON body; the first
occurrence of a name wins; `tool_args` takes a JSON object). `tool_calls=N` is honoured only in the last
message, and only if that is a user message, so a tool loop that sends the results back gets text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .anthropic_directives import DirectiveError, directive_text

__all__ = ["DirectiveError", "Directives", "directive_text", "last_user_text", "parse_directives"]

_OPENING = re.compile(r"\[\[fake:([a-z_]+)")
_JSON_VALUED = frozenset({"tool_args"})
_DECODER = json.JSONDecoder()
_FINISH_REASONS = frozenset({"stop", "length", "content_filter", "tool_calls"})
_T = TypeVar("_T")


@dataclass(frozen=True)
class Directives:
    """Defaults mean "behave like a healthy, fast OpenAI-compatible server"."""

    status: int | None = None
    status_times: int | None = None
    context_length: bool = False
    text: str | None = None
    words: int | None = None
    delay: float = 0.0
    word_delay: float = 0.0
    stall_after: tuple[int, float] | None = None
    drop_after: int | None = None
    midstream_error: int | None = None
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
    raw = _scan(text)
    try:
        directives = Directives(
            status=_opt(raw, "status", int),
            status_times=_opt(raw, "status_times", int),
            context_length="context_length" in raw,
            text=raw.get("text"),
            words=_opt(raw, "words", int),
            delay=_opt(raw, "delay", float) or 0.0,
            word_delay=_opt(raw, "word_delay", float) or 0.0,
            stall_after=_stall(raw.get("stall_after")),
            drop_after=_opt(raw, "drop_after", int),
            midstream_error=_opt(raw, "midstream_error", int),
            tool_calls=_opt(_scan(last_user), "tool_calls", int) or 0,
            tool_args=_object(raw, "tool_args"),
            split_awkward=_split(raw.get("split")),
            interleave="interleave" in raw,
            args_at_end="args_at_end" in raw,
            no_tool_ids="no_tool_ids" in raw,
            reasoning="reasoning" in raw,
            finish=raw.get("finish"),
            vllm_stop=raw.get("vllm_stop"),
            cached=_opt(raw, "cached", int) or 0,
            require_reasoning_roundtrip="require_reasoning_roundtrip" in raw,
        )
    except (TypeError, ValueError) as exc:
        raise DirectiveError(f"bad fake directive: {exc}") from exc
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


def _scan(text: str) -> dict[str, str]:
    """Map directive name to its raw value ("" for flags like `[[fake:reasoning]]`)."""
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


def _split(value: str | None) -> bool:
    if value not in (None, "awkward"):
        raise DirectiveError(f"bad fake directive: split={value!r} (only split=awkward)")
    return value == "awkward"
