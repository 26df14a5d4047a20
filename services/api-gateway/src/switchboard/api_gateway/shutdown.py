"""Graceful drain on SIGTERM: stop accepting, let in-flight requests and streams run for the grace period, then
answer what is left with a retryable ``overloaded_error``, and exit 0.

uvicorn closes the listening socket and waits for open connections on its own; what it cannot do is tell a
stream why it ends. ``Drain`` gives the relay a deadline to end streams with a proper error event before uvicorn's
own timeout (set a little later) cuts the connections.
"""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

import uvicorn

__all__ = ["CUT_MARGIN_SECONDS", "Drain", "DrainingServer", "exit_zero_on_sigterm"]

CUT_MARGIN_SECONDS = 2.0
"""How long after the drain deadline uvicorn cuts connections: time for the error events to go out."""


class Drain:
    """Whether the gateway is draining, and until when in-flight work may still run."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self._deadline: float | None = None

    def begin(self) -> None:
        """Start the grace period (safe to call from a signal handler: it only stores a number)."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self.grace

    @property
    def draining(self) -> bool:
        return self._deadline is not None

    @property
    def expired(self) -> bool:
        """Whether the grace period is over."""
        return self._deadline is not None and time.monotonic() >= self._deadline

    def time_left(self) -> float | None:
        """Seconds until in-flight work is cut off (<= 0: now), or ``None`` while not draining."""
        return None if self._deadline is None else self._deadline - time.monotonic()


class DrainingServer(uvicorn.Server):
    """uvicorn's server, starting the drain's grace period when the shutdown signal arrives."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self._drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._drain.begin()
        super().handle_exit(sig, frame)


def exit_zero_on_sigterm() -> None:
    """After a graceful shutdown uvicorn re-raises the signal it caught; a drained gateway then exits 0."""
    signal.signal(signal.SIGTERM, _exit_zero)


def _exit_zero(sig: int, frame: FrameType | None) -> None:
    sys.exit(0)
