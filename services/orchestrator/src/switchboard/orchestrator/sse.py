"""Incremental splitter of an SSE byte stream into complete events, bytes kept exactly as received.

An event ends at an empty line; lines end with ``\\r\\n``, ``\\n`` or ``\\r`` (the SSE spec allows all three,
even mixed). Only whole events leave the splitter, so a frame never carries half an event.
"""

from __future__ import annotations

import re

__all__ = ["SseSplitter", "event_fields"]

_LINE_END = re.compile(rb"[\r\n]")
_TEXT_LINE_END = re.compile(r"\r\n|\r|\n")


class SseSplitter:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scan = 0
        """Where to resume looking for line ends (everything before it is already classified)."""
        self._line_start = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add bytes; return the events they completed (each with its terminating blank line)."""
        self._buffer += chunk
        return self._split(final=False)

    def close(self) -> tuple[list[bytes], bytes]:
        """End of stream: the last complete events, and the incomplete rest (not an event: drop it)."""
        events = self._split(final=True)
        rest = bytes(self._buffer)
        self._buffer.clear()
        self._scan = self._line_start = 0
        return events, rest

    def _split(self, *, final: bool) -> list[bytes]:
        buffer, events = self._buffer, []
        event_start, pos, line_start = 0, self._scan, self._line_start
        while (match := _LINE_END.search(buffer, pos)) is not None:
            index = match.start()
            if buffer[index] == 0x0D:  # \r: alone, or the first half of \r\n
                if index + 1 == len(buffer) and not final:
                    break  # cannot tell yet whether a \n follows
                end = index + 2 if buffer[index + 1 : index + 2] == b"\n" else index + 1
            else:
                end = index + 1
            if index == line_start:  # an empty line closes the event
                events.append(bytes(buffer[event_start:end]))
                event_start = end
            pos = line_start = end
        del buffer[:event_start]
        self._scan, self._line_start = pos - event_start, line_start - event_start
        return events


def event_fields(event: bytes | str) -> tuple[str | None, str]:
    """``(event name, data)`` of one event: multi-line data joined with ``\\n``, one leading space stripped."""
    text = event.decode("utf-8", errors="replace") if isinstance(event, bytes) else event
    name: str | None = None
    data: list[str] = []
    # Not str.splitlines(): JSON strings may hold U+2028 and friends, which are not SSE line ends.
    for line in _TEXT_LINE_END.split(text):
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    return name, "\n".join(data)
