"""Which failures move a request on to the route's next target, and the sink guard that detects them.

A failure qualifies only while nothing has reached the client: once a stream head or body was sent, the
answer belongs to that target, whatever happens next.
"""

from __future__ import annotations

from collections.abc import Mapping

from switchboard.orchestrator.providers.base import ResponseSink

__all__ = ["RETRYABLE_STATUSES", "FallbackGuard", "TargetFailedError"]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
"""Rate limits, server errors, timeouts (ours are 502 for connection failures and 504 for timeouts)."""


class TargetFailedError(Exception):
    """The current target failed in a way the next target may not."""

    def __init__(self, status: int) -> None:
        super().__init__(f"target failed with HTTP {status}")
        self.status = status


class FallbackGuard:
    """A ``ResponseSink`` that passes everything to ``sink`` except a retryable error before any answer."""

    def __init__(self, sink: ResponseSink) -> None:
        self._sink = sink
        self.committed = False

    async def start_stream(self, headers: Mapping[str, str]) -> None:
        self.committed = True
        await self._sink.start_stream(headers)

    async def stream_bytes(self, chunk: bytes) -> None:
        await self._sink.stream_bytes(chunk)

    async def finish_stream(self) -> None:
        await self._sink.finish_stream()

    async def body(self, status: int, headers: Mapping[str, str], text: str) -> None:
        self.committed = True
        await self._sink.body(status, headers, text)

    async def upstream_error(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        if status in RETRYABLE_STATUSES:
            raise TargetFailedError(status)
        self.committed = True
        await self._sink.upstream_error(status, headers, body)
