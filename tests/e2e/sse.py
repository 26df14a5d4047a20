"""Reading an SSE response event by event, with arrival times, for tests that care about timing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["SseEvent", "read_events"]


@dataclass(frozen=True)
class SseEvent:
    name: str
    data: dict[str, Any]
    arrived: float


def read_events(response: httpx.Response) -> Iterator[SseEvent]:
    """Yield each ``event:``/``data:`` pair as it arrives; asserts Anthropic's framing on the way."""
    buffer = ""
    for text in response.iter_text():
        buffer += text
        while "\n\n" in buffer:
            raw, buffer = buffer.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in raw.split("\n") if ": " in line)
            assert "event" in lines and "data" in lines, f"unnamed or empty SSE event: {raw!r}"
            data = json.loads(lines["data"])
            assert data["type"] == lines["event"]
            yield SseEvent(lines["event"], data, time.monotonic())
