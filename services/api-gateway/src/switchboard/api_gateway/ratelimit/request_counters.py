"""A replica's running estimate of its users' request counters, so most requests are admitted without a round trip.

The NATS counter stays the truth: every admitted request still increments it, and each acknowledgement carries
the counter's total across all replicas. A request may be decided on that total (plus one) instead of waiting for
its own increment when the last acknowledgement is younger than ``ttl`` and no other increment of this replica is
still unacknowledged. Its increment is then published at once, in order with every other publish of the
connection, and its acknowledgement comes back on this replica's ack inbox. Whether the estimate is close enough
to the limit to be trusted is the limiter's call. Otherwise (a user's first request in a window, a burst, or the
first request after a quiet spell) the increment is awaited, as every request's used to be.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from itertools import count

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.client import JetStreamContext

__all__ = ["INCREMENT_HEADER", "RequestCounters"]

logger = logging.getLogger(__name__)

INCREMENT_HEADER = "Nats-Incr"
_MAX_ESTIMATES = 10_000
_NEVER = float("-inf")


@dataclass(slots=True)
class _Estimate:
    acknowledged: int = 0
    """The total the latest acknowledgement reported (acks on one connection arrive in publish order)."""
    pending: int = 0
    """This replica's increments published but not acknowledged yet."""
    refreshed: float = _NEVER
    """``time.monotonic()`` of the latest acknowledgement."""
    unacknowledged: dict[str, float] = field(default_factory=dict)
    """Background increments in flight: ack token -> ``time.monotonic()`` published."""


class RequestCounters:
    def __init__(self, nc: NatsClient, *, ttl: float, timeout: float) -> None:
        self._nc = nc
        self._ttl = ttl
        self._timeout = timeout
        self._estimates: dict[str, _Estimate] = {}
        self._acks: Subscription | None = None
        self._inbox = ""
        self._tokens = count()
        self._in_flight: dict[str, str] = {}
        """Ack token -> counter subject, for increments published without waiting."""
        self._settled = asyncio.Event()
        self._settled.set()

    @cached_property
    def _js(self) -> JetStreamContext:
        return self._nc.jetstream()

    async def start(self) -> None:
        """Subscribe the ack inbox; until then every request waits for its increment."""
        if self._acks is None:
            self._inbox = self._nc.new_inbox()
            self._acks = await self._nc.subscribe(f"{self._inbox}.*", cb=self._acknowledged)

    def next_total(self, subject: str) -> int | None:
        """The counter's total with one more request, or ``None`` when the estimate is too old or an increment of
        this replica is in flight (at most one request per replica and counter is decided unacknowledged)."""
        estimate = self._estimates.get(subject)
        if estimate is None or self._acks is None:
            return None
        now = time.monotonic()
        if estimate.unacknowledged:
            self._give_up_lost(estimate, now)
        if estimate.pending or now - estimate.refreshed >= self._ttl:
            return None
        return estimate.acknowledged + 1

    async def add(self, subject: str, amount: int) -> int:
        """Add ``amount`` (may be negative) and return the counter's new total, waiting for the acknowledgement."""
        estimate = self._estimate(subject)
        estimate.pending += amount
        try:
            ack = await self._js.publish(subject, b"", headers={INCREMENT_HEADER: f"{amount:+d}"})
        finally:
            estimate.pending -= amount
        total = int(ack.val or 0)
        estimate.acknowledged, estimate.refreshed = total, time.monotonic()
        return total

    async def add_one_unacknowledged(self, subject: str) -> None:
        """Publish one increment now, in order with the connection's other publishes (no suspension before it is
        queued), and take its acknowledgement in when it comes."""
        estimate = self._estimate(subject)
        token = str(next(self._tokens))
        estimate.pending += 1
        estimate.unacknowledged[token] = time.monotonic()
        self._in_flight[token] = subject
        self._settled.clear()
        try:
            await self._nc.publish(subject, b"", reply=f"{self._inbox}.{token}", headers={INCREMENT_HEADER: "+1"})
        except BaseException:
            self._forget(token, estimate)
            raise

    async def settled(self) -> None:
        """Return once every increment published without waiting was acknowledged or given up (shutdown, tests)."""
        try:
            await asyncio.wait_for(self._settled.wait(), self._timeout)
        except TimeoutError:
            logger.debug("%d rate-limit increments still unacknowledged", len(self._in_flight))

    async def _acknowledged(self, msg: Msg) -> None:
        token = msg.subject.rpartition(".")[2]
        subject = self._in_flight.get(token)
        estimate = self._estimates.get(subject) if subject is not None else None
        if estimate is None:
            return  # given up on already
        self._forget(token, estimate)
        try:
            total = int(json.loads(msg.data)["val"])
        except (ValueError, KeyError, TypeError):
            logger.debug("rate-limit increment of %s refused: %r", subject, msg.data[:200])
            estimate.refreshed = _NEVER  # the next request waits for its own increment and fails open if need be
            return
        estimate.acknowledged, estimate.refreshed = total, time.monotonic()

    def _give_up_lost(self, estimate: _Estimate, now: float) -> None:
        """Acknowledgements later than the timeout are taken as lost: the estimate is no longer trusted."""
        for token, published in list(estimate.unacknowledged.items()):
            if now - published >= self._timeout:
                self._forget(token, estimate)
                estimate.refreshed = _NEVER

    def _forget(self, token: str, estimate: _Estimate) -> None:
        if estimate.unacknowledged.pop(token, None) is not None:
            estimate.pending -= 1
        self._in_flight.pop(token, None)
        if not self._in_flight:
            self._settled.set()

    def _estimate(self, subject: str) -> _Estimate:
        estimate = self._estimates.get(subject)
        if estimate is None:
            if len(self._estimates) >= _MAX_ESTIMATES:  # mostly past windows: keep only what is in flight
                self._estimates = {key: kept for key, kept in self._estimates.items() if kept.pending}
            estimate = self._estimates[subject] = _Estimate()
        return estimate
