"""Exponential backoff with full jitter, and the server's own wait hints (``Retry-After``, ``X-RateLimit-Reset``)."""

from __future__ import annotations

import random
from collections.abc import Mapping

__all__ = ["BASE_SECONDS", "CAP_SECONDS", "backoff_delay", "server_wait_hint"]

BASE_SECONDS = 0.5
CAP_SECONDS = 30.0


def backoff_delay(
    attempt: int, *, base: float = BASE_SECONDS, cap: float = CAP_SECONDS, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): uniform in [0, min(cap, base * 2**attempt)].

    Full jitter (AWS architecture blog) spreads the retries of many replicas so a recovering Lago is not hit
    by a synchronised wave.
    """
    ceiling = min(cap, base * 2 ** min(attempt, 32))
    return (rng or random).uniform(0.0, ceiling)


def server_wait_hint(headers: Mapping[str, str], *, cap: float = CAP_SECONDS) -> float | None:
    """What a 429/503 asks us to wait, in seconds: ``X-RateLimit-Reset`` (Lago) or ``Retry-After`` (seconds)."""
    for name in ("x-ratelimit-reset", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue  # an HTTP date in Retry-After: fall back to our own backoff
        return min(max(seconds, 0.0), cap)
    return None
