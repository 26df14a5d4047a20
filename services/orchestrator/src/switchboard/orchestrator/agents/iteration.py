"""The ``ResponseSink`` of one provider call in an agent loop: the turn rebuilt, the client served as it streams.

Agent iterations are always requested as streams, so a whole-body answer is a provider fault. An HTTP error
answer is kept for the loop to pass on; an ``error`` event inside the stream ends the iteration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.common.errors import UpstreamUnavailableError
from switchboard.orchestrator.agents.client_reply import ClientReply
from switchboard.orchestrator.agents.message_assembler import BlockAssembler
from switchboard.orchestrator.sse import SseSplitter, event_fields
from switchboard.orchestrator.usage import UsageTracker

__all__ = ["IterationSink", "UpstreamFailure"]


@dataclass(frozen=True, slots=True)
class UpstreamFailure:
    """The provider's HTTP error answer, passed to the client as it came."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class IterationSink:
    def __init__(self, reply: ClientReply) -> None:
        self._reply = reply
        self._splitter = SseSplitter()
        self._assembler = BlockAssembler()
        self.tracker = UsageTracker()
        """This call's own usage, stop reason and end-of-stream markers."""
        self.message: dict[str, Any] = {}
        """The ``message`` of ``message_start`` (id, model…)."""
        self.stop_sequence: str | None = None
        self.error: dict[str, Any] | None = None
        """The payload of an upstream ``error`` event."""
        self.failure: UpstreamFailure | None = None

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self._assembler.blocks()

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        await self._reply.started(headers)

    async def stream_bytes(self, chunk: bytes) -> None:
        self._observe(self._splitter.feed(chunk))
        await self._reply.flush()

    async def finish_stream(self) -> None:
        events, _ = self._splitter.close()
        self._observe(events)
        await self._reply.flush()
        if self.error is None and not self.tracker.saw_message_stop:
            raise UpstreamUnavailableError("the upstream provider ended the stream early")

    async def body(self, status: int, headers: Mapping[str, str], text: str) -> None:
        raise UpstreamUnavailableError("the upstream provider answered a streamed request with a whole body")

    async def upstream_error(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.failure = UpstreamFailure(status, dict(headers), body)

    def _observe(self, events: list[bytes]) -> None:
        for raw in events:
            self.tracker.observe_event(raw)
            name, data = event_fields(raw)
            payload = _json_object(data)
            kind = name or (payload or {}).get("type")
            if not isinstance(kind, str):
                continue
            if payload is not None:
                self._note(kind, payload)
            self._reply.event(kind, payload, raw)

    def _note(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "message_start" and isinstance(message := payload.get("message"), dict):
            self.message = message
        elif kind == "message_delta" and isinstance(delta := payload.get("delta"), dict):
            stop_sequence = delta.get("stop_sequence")
            self.stop_sequence = stop_sequence if isinstance(stop_sequence, str) else None
        elif kind == "error":
            self.error = payload
        else:
            self._assembler.observe(kind, payload)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
