"""A token bucket: how many messages one connection may send, on average and in a burst."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; each message takes one.

    ``refused_in_a_row`` counts refusals since the last accepted message, so a connection that keeps going past
    its limit can be told apart from one that bursts once.
    """

    __slots__ = ("_clock", "_rate", "_stamp", "_tokens", "burst", "refused_in_a_row")

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self.refused_in_a_row = 0

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False
