"""Charges every finished completion's tokens to its user's tokens-per-minute counter.

The orchestrator publishes ``CompletionRecorded`` to JetStream, and a core NATS subscription receives those
messages too. The queue group ``gateway-usage`` hands each event to exactly one gateway replica. A publish the
orchestrator retried reaches core subscribers twice, so each replica ignores event ids it has just seen (best
effort: a retry that lands on another replica is counted twice, which only tightens the limit briefly).

Charges are gathered per user for ``flush_interval`` (0.1 s) and sent as one increment each, so a busy user
costs a counter update per interval rather than per completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from pydantic import ValidationError

from switchboard.api_gateway.ratelimit.limiter import RateLimiter
from switchboard.common.events import CompletionRecorded
from switchboard.common.subjects import Subjects

__all__ = ["USAGE_QUEUE", "UsageFeed"]

logger = logging.getLogger(__name__)

USAGE_QUEUE = "gateway-usage"
"""Queue group of every gateway replica's usage feed: each event is charged once."""

_REMEMBERED_EVENTS = 4096
_BARRIER_TIMEOUT = 5.0


class UsageFeed:
    def __init__(self, limiter: RateLimiter, subjects: Subjects, flush_interval: float = 0.1) -> None:
        self._limiter = limiter
        self._subjects = subjects
        self._flush_interval = flush_interval
        self._subscription: Subscription | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending: dict[str, int] = {}
        self._flushing: asyncio.Task[None] | None = None

    async def start(self, nc: NatsClient) -> None:
        """Subscribe; returns once the server routes completion events to this replica."""
        self._subscription = await nc.subscribe(
            self._subjects.completion_recorded_all, queue=USAGE_QUEUE, cb=self._on_message
        )
        await _subscription_barrier(nc)

    async def stop(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(NatsError):  # the connection may already be closed or draining
                await subscription.unsubscribe()
        if self._flushing is not None:
            await self._flushing
        await self._charge()

    async def _on_message(self, msg: Msg) -> None:
        try:
            event = CompletionRecorded.model_validate_json(msg.data)
        except ValidationError as exc:
            logger.warning("ignoring a malformed CompletionRecorded on %s: %s", msg.subject, exc)
            return
        if self._already_seen(event.event_id):
            return
        # Cache reads are cheap for the provider and do not count against the limit.
        tokens = event.input_tokens + event.output_tokens + event.cache_creation_input_tokens
        if tokens <= 0:
            return
        self._pending[event.user_id] = self._pending.get(event.user_id, 0) + tokens
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._flush_interval)
        self._flushing = None
        await self._charge()

    async def _charge(self) -> None:
        pending, self._pending = self._pending, {}
        await asyncio.gather(*(self._limiter.record_tokens(user, tokens) for user, tokens in pending.items()))

    def _already_seen(self, event_id: str) -> bool:
        if event_id in self._seen:
            return True
        self._seen[event_id] = None
        if len(self._seen) > _REMEMBERED_EVENTS:
            self._seen.popitem(last=False)
        return False


async def _subscription_barrier(nc: NatsClient) -> None:
    """Wait until the server has processed our SUB.

    ``flush()`` is not enough: nats-py writes its PING straight to the socket, possibly ahead of a still-buffered
    SUB. A request goes through the same buffer as the SUB, so the server's "no responders" answer to a request
    nobody listens to proves the SUB arrived first.
    """
    with contextlib.suppress(NoRespondersError):
        await nc.request(nc.new_inbox(), b"", timeout=_BARRIER_TIMEOUT)
