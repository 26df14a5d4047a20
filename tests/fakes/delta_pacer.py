"""How the fake providers pace their stream deltas: word_delay, stall_after, midstream_error, drop_after.

Every fake counts faults in the deltas it passes through `DeltaPacer.pace`; the steps it yields are
the fake's own events plus the shared `Pause` and `Drop`, which the provider plays on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from .directive_scanner import SharedDirectives

__all__ = ["DeltaPacer", "Drop", "Pause"]

_E = TypeVar("_E")


@dataclass(frozen=True)
class Pause:
    """Go quiet for `seconds` (the provider may fill the silence with pings)."""

    seconds: float


@dataclass(frozen=True)
class Drop:
    """Close the TCP connection mid-body, without the end of the stream or the final chunk."""


class DeltaPacer(Generic[_E]):
    """Paces deltas; one pacer per reply, so "after K deltas" counts across every `pace` call."""

    def __init__(self, directives: SharedDirectives, error: _E) -> None:
        self._directives = directives
        self._error = error
        self._checked = -1
        self._sent = 0

    def pace(self, deltas: Iterable[_E]) -> Iterator[_E | Pause | Drop]:
        """The deltas with pauses between them and the faults due after each; `error` ends the stream."""
        for delta in deltas:
            yield from self._checkpoint()
            if self._sent and self._directives.word_delay:
                yield Pause(self._directives.word_delay)
            yield delta
            self._sent += 1
        yield from self._checkpoint()

    def _checkpoint(self) -> Iterator[_E | Pause | Drop]:
        """Faults keyed on "after K deltas", each evaluated once per count."""
        if self._checked == self._sent:
            return
        self._checked = self._sent
        directives = self._directives
        if directives.stall_after is not None and directives.stall_after[0] == self._sent:
            yield Pause(directives.stall_after[1])
        if directives.midstream_error == self._sent:
            yield self._error
        if directives.drop_after == self._sent:
            yield Drop()
