"""Reads a user's rate-limit counters for the current windows without touching them (for dashboards, not admission).

The windows and counter names mirror ``limiter``: ``rpm.<epoch minute>``, ``rpd.<epoch day>`` and
``tpm.<epoch minute>`` under ``Subjects.rate_counter``. A counter's last message carries its total (NATS >= 2.12
atomic counters), so one direct get per counter reads it; a counter with no message yet is a window with no use.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from switchboard.api_gateway.ratelimit.tiers import TierLimits
from switchboard.common.subjects import Subjects

__all__ = ["WindowUsage", "read_window_usage"]

_SECONDS = {"minute": 60, "day": 86_400}

_COUNTERS: tuple[tuple[str, str, Literal["minute", "day"]], ...] = (
    ("requests_per_minute", "rpm", "minute"),
    ("requests_per_day", "rpd", "day"),
    ("tokens_per_minute", "tpm", "minute"),
)
"""``TierLimits`` field -> counter name in the subject -> window; the limiter's naming, read-only."""


@dataclass(frozen=True, slots=True)
class WindowUsage:
    """One limit of a tier in its current window."""

    limit: int
    used: int
    """The counter's total: may briefly exceed ``limit`` (a denied request before it is taken back; tokens,
    which are charged after the completion)."""
    window: Literal["minute", "day"]
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def public(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "window": self.window,
            "resets_at": self.resets_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


async def read_window_usage(
    js: JetStreamContext, stream: str, subjects: Subjects, user_id: str, limits: TierLimits, now: float
) -> dict[str, WindowUsage]:
    """Every limit ``limits`` sets, keyed by its ``TierLimits`` field; unlimited ones are left out (never counted).

    Raises the NATS client's errors (or ``TimeoutError``) when the stream cannot answer.
    """
    fields: list[str] = []
    reads: list[Coroutine[Any, Any, WindowUsage]] = []
    for field, counter, window in _COUNTERS:
        limit: int | None = getattr(limits, field)
        if limit is None:
            continue
        index = int(now // _SECONDS[window])
        subject = subjects.rate_counter(user_id, f"{counter}.{index}")
        resets_at = datetime.fromtimestamp((index + 1) * _SECONDS[window], UTC)
        fields.append(field)
        reads.append(_read(js, stream, subject, limit, window, resets_at))
    return dict(zip(fields, await asyncio.gather(*reads), strict=True))


async def _read(
    js: JetStreamContext, stream: str, subject: str, limit: int, window: Literal["minute", "day"], resets_at: datetime
) -> WindowUsage:
    try:
        message = await js.get_last_msg(stream, subject, direct=True)
        used = int(json.loads(message.data or b"{}").get("val", 0))
    except NotFoundError:  # nothing counted in this window yet
        used = 0
    return WindowUsage(limit=limit, used=used, window=window, resets_at=resets_at)
