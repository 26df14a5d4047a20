"""The `[[fake:...]]` directive grammar every fake provider shares: finding directives and typing their values.

`[[fake:name]]` is a flag, `[[fake:name=value]]` runs to the next "]]", except for the names a fake
declares JSON-valued, whose value is one JSON value (so it may contain "]]"). The first occurrence of a
name wins. Each fake's `Directives` extends `SharedDirectives`, read inside `malformed_values()`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self, TypeVar

__all__ = [
    "DirectiveError",
    "DirectiveScanner",
    "RawDirectives",
    "SharedDirectives",
    "directive_text",
    "malformed_values",
]

_OPENING = re.compile(r"\[\[fake:([a-z_]+)")
_DECODER = json.JSONDecoder()
_T = TypeVar("_T")


class DirectiveError(ValueError):
    """A directive is malformed; the fake answers 400 so the test author sees why."""


def directive_text(body: Any) -> str:
    """All strings of a parsed JSON body, newline-joined: the text directives are searched in."""
    return "\n".join(_strings(body))


@contextmanager
def malformed_values() -> Iterator[None]:
    """Report a value that does not convert (`words=many`) as a `DirectiveError`."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        raise DirectiveError(f"bad fake directive: {exc}") from exc


class RawDirectives:
    """Directive name to raw value ("" for flags), with typed readers that return None when absent."""

    def __init__(self, found: dict[str, str]) -> None:
        self._found = found

    def __contains__(self, name: str) -> bool:
        return name in self._found

    def text(self, name: str) -> str | None:
        return self._found.get(name)

    def integer(self, name: str) -> int | None:
        return self._convert(name, int)

    def number(self, name: str) -> float | None:
        return self._convert(name, float)

    def json_object(self, name: str) -> dict[str, Any] | None:
        if name not in self._found:
            return None
        value = json.loads(self._found[name])
        if not isinstance(value, dict):
            raise DirectiveError(f"fake directive {name!r} must be a JSON object")
        return value

    def count_and_seconds(self, name: str) -> tuple[int, float] | None:
        """`K,S` as in `stall_after=3,2.5`."""
        if name not in self._found:
            return None
        after, _, seconds = self._found[name].partition(",")
        return int(after), float(seconds)

    def _convert(self, name: str, convert: Callable[[str], _T]) -> _T | None:
        return convert(self._found[name]) if name in self._found else None


class DirectiveScanner:
    """Finds the directives in a text; `json_valued` names take one JSON value instead of text up to "]]"."""

    def __init__(self, *, json_valued: Iterable[str] = ()) -> None:
        self._json_valued = frozenset(json_valued)

    def scan(self, text: str) -> RawDirectives:
        found: dict[str, str] = {}
        position = 0
        while match := _OPENING.search(text, position):
            name, value, position = self._read_value(text, match.group(1), match.end())
            found.setdefault(name, value)
        return RawDirectives(found)

    def _read_value(self, text: str, name: str, index: int) -> tuple[str, str, int]:
        if text.startswith("]]", index):
            return name, "", index + 2
        if not text.startswith("=", index):
            raise DirectiveError(f"bad fake directive {name!r}: expected '=' or ']]'")
        index += 1
        if name in self._json_valued:
            try:
                _, end = _DECODER.raw_decode(text, index)
            except ValueError as exc:
                raise DirectiveError(f"fake directive {name!r} needs a JSON value: {exc}") from exc
        else:
            end = text.find("]]", index)
        if end < 0 or not text.startswith("]]", end):
            raise DirectiveError(f"fake directive {name!r} is not closed with ']]'")
        return name, text[index:end], end + 2


@dataclass(frozen=True)
class SharedDirectives:
    """The directives every fake honours; defaults mean "behave like a healthy, fast API"."""

    status: int | None = None
    status_times: int | None = None
    text: str | None = None
    words: int | None = None
    delay: float = 0.0
    word_delay: float = 0.0
    stall_after: tuple[int, float] | None = None
    drop_after: int | None = None
    midstream_error: int | None = None

    @classmethod
    def from_raw(cls, raw: RawDirectives, **specific: Any) -> Self:
        """The shared fields read from `raw`, the fake's own fields given as `specific`."""
        return cls(
            status=raw.integer("status"),
            status_times=raw.integer("status_times"),
            text=raw.text("text"),
            words=raw.integer("words"),
            delay=raw.number("delay") or 0.0,
            word_delay=raw.number("word_delay") or 0.0,
            stall_after=raw.count_and_seconds("stall_after"),
            drop_after=raw.integer("drop_after"),
            midstream_error=raw.integer("midstream_error"),
            **specific,
        )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
