"""Long polls of polling connectors: calls taken from each server's durable pull consumer on the tool queue.

One durable consumer per ``(user, server)``, shared by every replica (each binds its own pull subscription and
keeps it between polls, so a message that arrives for an abandoned fetch is found by the next one). Every
message is acknowledged when taken; the pending entry (``poll_queue``) decides whether it is handed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from pydantic import ValidationError

from switchboard.common.mcp_protocol import ToolCallMessage
from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.calls import tool_call_message
from switchboard.tool_broker.poll_queue import PollQueue
from switchboard.tool_broker.stores import Stores

__all__ = ["Pollers", "consumer_name"]

logger = logging.getLogger(__name__)

_ACK_WAIT = 30.0
_INACTIVE_THRESHOLD = 3600.0
_QUICK_FETCH = 0.05
"""Seconds a poll without ``wait`` (or the top-up after the first call) waits for messages already queued."""
_IDLE_SUBSCRIPTION = 600.0

PullSubscription = JetStreamContext.PullSubscription


def consumer_name(user_id: str, server_id: str) -> str:
    """A durable name per ``(user, server)``: hashed, since consumer names allow fewer characters than ids."""
    digest = hashlib.sha256(f"{user_id}\x00{server_id}".encode()).hexdigest()[:32]
    return f"mcp_poll_{digest}"


class Pollers:
    def __init__(self, stores: Stores, subjects: Subjects, queue: PollQueue) -> None:
        self._stores = stores
        self._subjects = subjects
        self._queue = queue
        self._subscriptions: dict[tuple[str, str], tuple[PullSubscription, float]] = {}
        self._lock = asyncio.Lock()

    async def poll(self, user_id: str, servers: dict[str, str], wait: float, max_calls: int) -> list[ToolCallMessage]:
        """Calls for ``servers`` (server id → poller id), waiting up to ``wait`` seconds for the first one."""
        subscriptions = {server: await self._subscription(user_id, server) for server in servers}
        try:
            messages = await _first_messages(list(subscriptions.items()), wait, max_calls)
        except NatsError:
            await self._forget([(user_id, server) for server in servers])  # bound again on the next poll
            raise
        calls: list[ToolCallMessage] = []
        for server, message in messages[:max_calls]:
            call = await self._take(message, user_id, server, servers[server])
            if call is not None:
                calls.append(call)
        for _, message in messages[max_calls:]:
            await message.nak()  # over max_calls: back to the queue at once
        return calls

    async def close(self) -> None:
        async with self._lock:
            subscriptions, self._subscriptions = list(self._subscriptions.values()), {}
        for subscription, _ in subscriptions:
            with contextlib.suppress(NatsError):
                await subscription.unsubscribe()

    async def _take(self, message: Msg, user_id: str, server_id: str, poller_id: str) -> ToolCallMessage | None:
        await message.ack()
        try:
            queued = ExecuteToolCall.model_validate_json(message.data)
        except ValidationError:
            logger.warning("dropped a malformed call from the tool queue")
            return None
        if queued.user_id != user_id or queued.server_id != server_id:
            return None  # a colliding subject token: not this poller's call
        call = await self._queue.claim(queued.call_id, user_id, poller_id)
        return tool_call_message(call) if call is not None else None

    async def _subscription(self, user_id: str, server_id: str) -> PullSubscription:
        key = (user_id, server_id)
        async with self._lock:
            await self._forget_idle(time.monotonic())
            known = self._subscriptions.get(key)
            if known is None:
                name, stream = consumer_name(user_id, server_id), self._stores.queue_stream
                await self._stores.js.add_consumer(stream, _consumer_config(name, self._subjects, key))
                subscription = await self._stores.js.pull_subscribe_bind(durable=name, stream=stream)
            else:
                subscription = known[0]
            self._subscriptions[key] = (subscription, time.monotonic())
            return subscription

    async def _forget_idle(self, now: float) -> None:
        idle = [key for key, (_, used) in self._subscriptions.items() if now - used > _IDLE_SUBSCRIPTION]
        await self._drop(idle)

    async def _forget(self, keys: list[tuple[str, str]]) -> None:
        async with self._lock:
            await self._drop(keys)

    async def _drop(self, keys: list[tuple[str, str]]) -> None:
        for key in keys:
            known = self._subscriptions.pop(key, None)
            if known is not None:
                with contextlib.suppress(NatsError):
                    await known[0].unsubscribe()


def _consumer_config(name: str, subjects: Subjects, key: tuple[str, str]) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=name,
        filter_subject=subjects.tool_queue(*key),
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=_ACK_WAIT,
        deliver_policy=DeliverPolicy.ALL,
        inactive_threshold=_INACTIVE_THRESHOLD,
    )


async def _first_messages(
    subscriptions: list[tuple[str, PullSubscription]], wait: float, max_calls: int
) -> list[tuple[str, Msg]]:
    """Messages of whichever servers have some first, waiting up to ``wait`` for the first of them."""
    tasks = {asyncio.ensure_future(_fetch(sub, wait, max_calls)): server for server, sub in subscriptions}
    found: list[tuple[str, Msg]] = []
    pending = set(tasks)
    try:
        while pending and not found:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            found += [(tasks[task], message) for task in done for message in task.result()]
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return found


async def _fetch(subscription: PullSubscription, wait: float, batch: int) -> list[Msg]:
    """The first message within ``wait``, then whatever else is already queued, up to ``batch``."""
    try:
        messages = await subscription.fetch(1, timeout=max(wait, _QUICK_FETCH))
    except (TimeoutError, NatsTimeoutError):
        return []
    if batch > 1 and messages[-1].metadata.num_pending > 0:
        with contextlib.suppress(TimeoutError, NatsTimeoutError):
            messages += await subscription.fetch(batch - 1, timeout=_QUICK_FETCH)
    return messages
