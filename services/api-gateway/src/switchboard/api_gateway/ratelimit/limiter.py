"""Per-user rate limits shared by every gateway replica, kept in NATS atomic counters (NATS >= 2.12).

Fixed windows aligned to the clock: requests per minute (``rpm.<epoch minute>``), requests per UTC day
(``rpd.<epoch day>``) and tokens per minute (``tpm.<epoch minute>``, charged after each completion by the usage
feed). Each admitted request increments its request counters; a denied one does not (or takes its increments
back), so hammering a blocked window does not eat the daily quota. Old windows expire with the stream's
``max_age``.

A request far from its limits is decided on the counter's last acknowledged total and its increment published
without waiting (see ``request_counters``), so a user's requests in sequence cost no round trip before they are
admitted. Limits under ``EXACT_BELOW`` requests, and the last ``1/HEADROOM_DIVISOR`` of any limit, are decided on
the awaited increment. So limits under 100 are exact across replicas; a larger window can be overrun by at most
one request per gateway replica (each replica decides at most one request per counter before its increment is
acknowledged), and only when other replicas cross the last tenth of the limit within one acknowledgement's age
(``read_ttl`` at most).

Token counters are read once per ``read_ttl`` (0.25 s) per user and window, not per request: a replica's
own charges update its cached value at once, other replicas' within that time. Tokens are charged after the
fact anyway, so the limit was never exact to the request.

Failure policy: when NATS cannot answer (timeout, no JetStream, connection lost) ``admit`` fails OPEN and lets
the request through, logging a warning at most once a minute. These limits protect fairness, not money (usage
is billed from the usage stream), so a limiter outage must not turn into a gateway outage.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js.api import StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError

from switchboard.api_gateway.ratelimit.request_counters import INCREMENT_HEADER, RequestCounters
from switchboard.api_gateway.ratelimit.tiers import DEFAULT_TIER, DEFAULT_TIERS, TierLimits
from switchboard.api_gateway.ratelimit.window_usage import WindowUsage, read_window_usage
from switchboard.common.subjects import Subjects

__all__ = ["RateDecision", "RateLimiter"]

logger = logging.getLogger(__name__)

_MINUTE = 60
_DAY = 86_400
_STREAM_MAX_AGE = 2 * _DAY + 600  # a day window outlives its day; the slack absorbs clock skew between replicas
_WARNING_INTERVAL = 60.0
_NATS_TROUBLE = (NatsError, TimeoutError)
_MAX_CACHED_READS = 10_000
EXACT_BELOW = 100
"""Limits smaller than this are always decided on the awaited increment."""
HEADROOM_DIVISOR = 10
"""The last tenth of a limit is always decided on the awaited increment."""


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether one request may proceed, and what to tell the client about its limits."""

    allowed: bool
    limit: int | None
    """The requests-per-minute limit (``None``: unlimited)."""
    remaining: int | None
    reset: datetime
    """End of the current minute window (UTC)."""
    retry_after: int | None
    """Seconds until the window that blocked resets (>= 1), when not allowed."""
    reason: str | None
    """The limit that blocked, e.g. ``"10 requests per minute"``."""

    def headers(self) -> dict[str, str]:
        """Anthropic's ``anthropic-ratelimit-requests-*`` headers, plus ``retry-after`` when not allowed."""
        headers: dict[str, str] = {}
        if self.limit is not None:
            headers["anthropic-ratelimit-requests-limit"] = str(self.limit)
        if self.remaining is not None:
            headers["anthropic-ratelimit-requests-remaining"] = str(self.remaining)
        headers["anthropic-ratelimit-requests-reset"] = self.reset.strftime("%Y-%m-%dT%H:%M:%SZ")
        if not self.allowed and self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return headers


@dataclass(frozen=True, slots=True)
class _Count:
    """One counter's value against its limit."""

    subject: str
    value: int
    limit: int
    unit: str
    resets_at: float
    incremented: bool
    """Already added to the NATS counter (a denied request takes it back)."""
    estimated: bool = False
    """Decided on the replica's estimate: to be added to the NATS counter if the request is admitted."""

    @property
    def over(self) -> bool:
        return self.value > self.limit


class RateLimiter:
    def __init__(
        self,
        nc: NatsClient,
        subjects: Subjects,
        tiers: Mapping[str, TierLimits],
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 0.5,
        read_ttl: float = 0.25,
    ) -> None:
        self._nc = nc
        self._subjects = subjects
        self._stream = subjects.rate_limit_stream
        self._tiers = tiers
        self._clock = clock
        self._timeout = timeout
        self._last_warning: float | None = None
        self._read_ttl = read_ttl
        self._requests = RequestCounters(nc, ttl=read_ttl, timeout=timeout)
        self._token_reads: dict[str, tuple[float, int]] = {}
        """Counter subject -> (monotonic time read, value)."""

    @cached_property
    def _js(self) -> JetStreamContext:
        return self._nc.jetstream()

    async def ensure_stream(self) -> None:
        """Create the counter stream, or bring an existing one to this configuration; subscribe the ack inbox."""
        await self._requests.start()
        config = StreamConfig(
            name=self._stream,
            subjects=self._subjects.rate_limit_stream_subjects,
            storage=StorageType.FILE,
            allow_msg_counter=True,
            allow_direct=True,
            max_age=_STREAM_MAX_AGE,
            max_msgs_per_subject=1,  # a counter's last message carries its total; older ones are dead weight
        )
        try:
            await self._js.add_stream(config)
        except BadRequestError:
            await self._js.update_stream(config)

    async def admit(self, user_id: str, tier: str) -> RateDecision:
        """Count one request of ``user_id`` and decide whether it may proceed."""
        limits = self._tiers.get(tier) or self._tiers.get(DEFAULT_TIER) or DEFAULT_TIERS[DEFAULT_TIER]
        now = self._clock()
        minute_end = (int(now // _MINUTE) + 1) * _MINUTE
        reset = datetime.fromtimestamp(minute_end, UTC)
        if limits.unlimited:
            return RateDecision(True, None, None, reset, None, None)
        try:
            async with asyncio.timeout(self._timeout):
                counts = await self._count(user_id, limits, now)
        except _NATS_TROUBLE as exc:
            self._warn_open(exc, now)
            return RateDecision(True, limits.requests_per_minute, None, reset, None, None)
        blocking = [count for count in counts if count.over]
        if not blocking:
            try:
                for count in counts:
                    if count.estimated:
                        await self._requests.add_one_unacknowledged(count.subject)
            except _NATS_TROUBLE as exc:
                self._warn_open(exc, now)
            rpm = limits.requests_per_minute
            remaining = None if rpm is None else max(0, rpm - counts[0].value)
            return RateDecision(True, rpm, remaining, reset, None, None)
        await self._take_back(counts)
        worst = max(blocking, key=lambda count: count.resets_at)
        retry_after = max(1, math.ceil(worst.resets_at - now))
        remaining = None if limits.requests_per_minute is None else 0
        reason = f"{worst.limit} {worst.unit}"
        return RateDecision(False, limits.requests_per_minute, remaining, reset, retry_after, reason)

    async def record_tokens(self, user_id: str, tokens: int) -> None:
        """Charge ``tokens`` to the user's current minute (never raises: a lost charge only loosens the limit)."""
        if tokens <= 0:
            return
        now = self._clock()
        subject = self._subjects.rate_counter(user_id, f"tpm.{int(now // _MINUTE)}")
        try:
            async with asyncio.timeout(self._timeout):
                ack = await self._js.publish(subject, b"", headers={INCREMENT_HEADER: f"+{tokens}"})
        except _NATS_TROUBLE as exc:
            self._warn_open(exc, now)
            return
        if subject in self._token_reads and ack.val is not None:
            self._token_reads[subject] = (self._token_reads[subject][0], int(ack.val))

    def limits_for(self, tier: str) -> TierLimits:
        """The limits ``admit`` applies to ``tier`` (a tier this deployment does not define gets the default's)."""
        return self._tiers.get(tier) or self._tiers.get(DEFAULT_TIER) or DEFAULT_TIERS[DEFAULT_TIER]

    async def current_usage(self, user_id: str, tier: str) -> dict[str, WindowUsage]:
        """The user's counters in the current windows, read without counting anything (for the account API)."""
        limits = self.limits_for(tier)
        return await read_window_usage(self._js, self._stream, self._subjects, user_id, limits, self._clock())

    async def _count(self, user_id: str, limits: TierLimits, now: float) -> list[_Count]:
        """Every counter of the tier, the requests-per-minute one first when the tier has it."""
        minute = int(now // _MINUTE)
        minute_end = float((minute + 1) * _MINUTE)
        windows: list[tuple[str, int, str, float]] = []
        if limits.requests_per_minute is not None:
            subject = self._subjects.rate_counter(user_id, f"rpm.{minute}")
            windows.append((subject, limits.requests_per_minute, "requests per minute", minute_end))
        if limits.requests_per_day is not None:
            day = int(now // _DAY)
            subject = self._subjects.rate_counter(user_id, f"rpd.{day}")
            windows.append((subject, limits.requests_per_day, "requests per day", float((day + 1) * _DAY)))
        counts = self._estimated(windows)
        pending: list[Coroutine[Any, Any, _Count]] = []
        if counts is None:
            counts = []
            pending += [self._increment(*window) for window in windows]
        if limits.tokens_per_minute is not None:
            subject = self._subjects.rate_counter(user_id, f"tpm.{minute}")
            pending.append(self._read(subject, limits.tokens_per_minute, "tokens per minute", minute_end))
        return counts + list(await asyncio.gather(*pending)) if pending else counts

    def _estimated(self, windows: list[tuple[str, int, str, float]]) -> list[_Count] | None:
        """The request counters from the replica's estimates, or ``None`` unless every one is fresh."""
        counts: list[_Count] = []
        for subject, limit, unit, resets_at in windows:
            total = self._requests.next_total(subject)
            if total is None or limit < EXACT_BELOW or total > limit - limit // HEADROOM_DIVISOR:
                return None
            counts.append(_Count(subject, total, limit, unit, resets_at, incremented=False, estimated=True))
        return counts

    async def _increment(self, subject: str, limit: int, unit: str, resets_at: float) -> _Count:
        total = await self._requests.add(subject, 1)
        return _Count(subject, total, limit, unit, resets_at, incremented=True)

    async def _read(self, subject: str, limit: int, unit: str, resets_at: float) -> _Count:
        now = time.monotonic()
        cached = self._token_reads.get(subject)
        if cached is not None and now - cached[0] < self._read_ttl:
            return _Count(subject, cached[1], limit, unit, resets_at, incremented=False)
        try:
            message = await self._js.get_last_msg(self._stream, subject, direct=True)
            value = int(json.loads(message.data or b"{}").get("val", 0))
        except NotFoundError:  # nothing charged in this window yet
            value = 0
        if len(self._token_reads) > _MAX_CACHED_READS:
            self._token_reads.clear()  # old windows' entries: simpler than tracking each one's age
        self._token_reads[subject] = (now, value)
        return _Count(subject, value, limit, unit, resets_at, incremented=False)

    async def _take_back(self, counts: list[_Count]) -> None:
        """Undo a denied request's increments; if that fails the user is merely limited a little early."""
        undo = [self._requests.add(count.subject, -1) for count in counts if count.incremented]
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.gather(*undo)
        except _NATS_TROUBLE as exc:
            logger.debug("rate-limit increments not taken back: %r", exc)

    async def settled(self) -> None:
        """Return once the increments of admitted requests are all acknowledged (or given up)."""
        await self._requests.settled()

    def _warn_open(self, exc: BaseException, now: float) -> None:
        if self._last_warning is None or now - self._last_warning >= _WARNING_INTERVAL:
            self._last_warning = now
            logger.warning("rate limiter cannot reach NATS (%r): admitting requests without limits", exc)
