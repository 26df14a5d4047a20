"""Exponential backoff with full jitter, for reconnecting to the broker."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays of ``uniform(0, min(cap, base * 2**attempt))``: 1 s doubling to 30 s by default.

    Full jitter spreads the reconnects of many connectors after a broker restart. :meth:`reset` once a connection
    has been established, so the next outage starts from ``base`` again.
    """

    def __init__(self, base: float = 1.0, cap: float = 30.0, rng: random.Random | None = None) -> None:
        if base <= 0 or cap < base:
            raise ValueError("backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        # Past 2**30 the cap has long been reached; bounding the exponent avoids float overflow on long outages.
        return min(self.cap, self.base * 2.0 ** min(self.attempt, 30))

    def next_delay(self) -> float:
        """The delay to wait before the next attempt; each call widens the window until the cap."""
        delay = self._rng.uniform(0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
