"""The plumbing every fake provider shares: a loopback server that records requests and disconnects.

A fake subclasses `RecordingServer` and implements `_serve`; tests get `url`, `start`/`stop` (or `with`),
`requests`, `requests_with_marker` and `disconnected[_at]` the same way from every fake.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from .loopback_server import HttpRequest, LoopbackServer, Responder

__all__ = ["RecordedRequest", "RecordingServer"]


@dataclass(frozen=True)
class RecordedRequest(HttpRequest):
    """A request as the fake received it; `json` is the parsed body, or None if it was not JSON."""

    json: Any
    received_at: float


class RecordingServer(ABC):
    """Records every request, then hands it to `_serve`; use as a context manager or call `start()` and `stop()`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._disconnects: list[tuple[bytes, float]] = []
        self._failures: Counter[str] = Counter()
        self._server = LoopbackServer(self._handle, self._record_disconnect)

    @property
    def url(self) -> str:
        """Base URL without `/v1`, e.g. `http://127.0.0.1:PORT`."""
        if not self._server.port:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.port}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def requests_with_marker(self, marker: str) -> list[RecordedRequest]:
        needle = marker.encode()
        with self._lock:
            return [request for request in self.requests if needle in request.body]

    def disconnected(self, marker: str) -> bool:
        """Whether a client closed a connection, before its response was complete, for a body with marker."""
        return self.disconnected_at(marker) is not None

    def disconnected_at(self, marker: str) -> float | None:
        """Monotonic time of the first such disconnect, or None."""
        needle = marker.encode()
        with self._lock:
            return next((at for body, at in self._disconnects if needle in body), None)

    @abstractmethod
    async def _serve(self, request: RecordedRequest, responder: Responder) -> None:
        """Answer one recorded request."""

    def _should_fail(self, content: str, times: int | None) -> bool:
        """For `status_times=N`: whether this request, counted by its directive text, should still fail."""
        with self._lock:
            self._failures[content] += 1
            return times is None or self._failures[content] <= times

    def _record_disconnect(self, request: HttpRequest) -> None:
        with self._lock:
            self._disconnects.append((request.body, time.monotonic()))

    async def _handle(self, request: HttpRequest, responder: Responder) -> None:
        await self._serve(self._record(request), responder)

    def _record(self, request: HttpRequest) -> RecordedRequest:
        try:
            parsed: Any = json.loads(request.body) if request.body else None
        except ValueError:
            parsed = None
        recorded = RecordedRequest(
            request.method, request.path, request.query, request.headers, request.body, parsed, time.monotonic()
        )
        with self._lock:
            self.requests.append(recorded)
        return recorded
