"""Turns a provider's answer into reply frames, noting usage and the outcome on the way (the ``ResponseSink``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.common.errors import SwitchboardError, UpstreamUnavailableError
from switchboard.common.events import CompletionStatus
from switchboard.orchestrator.reply_stream import ReplyStream
from switchboard.orchestrator.sse import SseSplitter
from switchboard.orchestrator.upstream_errors import dump_json, upstream_error_body
from switchboard.orchestrator.usage import UsageTracker

__all__ = ["CLIENT_CLOSED_REQUEST", "Outcome", "ResponseWriter"]

logger = logging.getLogger(__name__)

CLIENT_CLOSED_REQUEST = 499
"""Status recorded for a request the client abandoned (nginx's convention; it never reaches a client)."""


@dataclass
class Outcome:
    status: CompletionStatus = "succeeded"
    http_status: int = 200
    error_type: str | None = None


class ResponseWriter:
    def __init__(self, reply: ReplyStream, request_id: str, provider: str = "") -> None:
        self._reply = reply
        self._request_id = request_id
        self.provider = provider
        self.usage = UsageTracker()
        self.outcome = Outcome()
        self._splitter = SseSplitter()

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        await self._reply.send("response_head", status=200, headers=headers)

    async def stream_bytes(self, chunk: bytes) -> None:
        await self._forward(self._splitter.feed(chunk))

    async def finish_stream(self) -> None:
        events, rest = self._splitter.close()
        await self._forward(events)
        if rest.strip():
            logger.warning("request %s: upstream stream ended inside an event; dropped its tail", self._request_id)
        if self.usage.stream_error_type is not None:
            self._failed(200, self.usage.stream_error_type)  # the upstream's own error event was forwarded
        elif not self.usage.saw_message_stop:
            raise UpstreamUnavailableError(f"upstream provider {self.provider} ended the stream early")

    async def body(self, status: int, headers: Mapping[str, str], text: str) -> None:
        self.outcome.http_status = status
        try:
            await self._reply.send("body", status=status, headers=headers, data=text)
        finally:  # after: the client's answer does not wait for our bookkeeping (which must happen regardless)
            self.usage.observe_body(text)

    async def upstream_error(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        data, error_type = upstream_error_body(status, body, self._request_id, self.provider)
        self._failed(status, error_type)
        await self._reply.send("error", status=status, headers=headers, data=data)

    async def fail(self, error: SwitchboardError) -> None:
        """Report our own error; after ``response_head`` the gateway turns it into an SSE error event."""
        self._failed(error.status_code, error.error_type)
        await self._reply.send("error", status=error.status_code, data=dump_json(error.body(self._request_id)))

    def cancelled(self) -> None:
        self.outcome = Outcome("cancelled", CLIENT_CLOSED_REQUEST, None)

    def _failed(self, status: int, error_type: str) -> None:
        self.outcome = Outcome("failed", status, error_type)

    async def _forward(self, events: list[bytes]) -> None:
        if not events:
            return
        for event in events:
            self.usage.observe_event(event)
        # Whole events only, as received: bytes of complete events are complete UTF-8.
        await self._reply.send("sse", data=b"".join(events).decode("utf-8", errors="replace"))
