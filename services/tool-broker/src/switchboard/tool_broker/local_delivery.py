"""Hands calls to the WebSocket connectors this replica holds, for itself and for other replicas.

A replica holding a live connector for ``(user, server)`` subscribes ``Subjects.deliver_tool_call(user, server)``
(queue group ``tool-broker``) for as long as it holds one, so a request there reaches one holder and "no
responders" means no live connector anywhere. The holder answers ``{"accepted": true}`` once the ``tool_call``
is on the socket, or ``{"accepted": false, "refusal": …}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from enum import StrEnum

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from pydantic import ValidationError

from switchboard.common.subjects import TOOL_BROKER_QUEUE, Subjects
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.calls import is_expired, tool_call_message
from switchboard.tool_broker.connections import ConnectionRegistry, ServerKey

__all__ = ["LocalDelivery", "Refusal"]

logger = logging.getLogger(__name__)

_FLUSH_TIMEOUT = 2


class Refusal(StrEnum):
    """Why a call was not handed to a connector."""

    NONE_CONNECTED = "none_connected"
    BUSY = "busy"
    EXPIRED = "expired"
    MALFORMED = "malformed"


class LocalDelivery:
    def __init__(self, nc: NatsClient, subjects: Subjects, registry: ConnectionRegistry, max_inflight: int) -> None:
        self._nc = nc
        self._subjects = subjects
        self._registry = registry
        self._max_inflight = max_inflight
        self._subscriptions: dict[ServerKey, Subscription] = {}
        self._lock = asyncio.Lock()

    async def deliver(self, call: ExecuteToolCall) -> Refusal | None:
        """Send ``call`` to the least busy local connector of its server; ``None`` once it is on the socket."""
        if is_expired(call):
            return Refusal.EXPIRED
        # Looked up by the call's own user and server, never by the subject it came on (subject tokens can collide).
        candidates = self._registry.serving((call.user_id, call.server_id), excluded=call.excluded_connection)
        if not candidates:
            return Refusal.NONE_CONNECTED
        connection = candidates[0]
        if len(connection.inflight) >= self._max_inflight:
            return Refusal.BUSY
        # Recorded before sending, with no await in between since the registry lookup: if the socket is closing,
        # the connection's close path finds the call here and redelivers it.
        connection.inflight[call.call_id] = call
        await connection.send(tool_call_message(call))
        return None

    async def sync(self, key: ServerKey) -> None:
        """Subscribe the deliver subject of ``key`` while this replica serves it, unsubscribe when it stops."""
        async with self._lock:
            wanted = self._registry.serves(key)
            subscription = self._subscriptions.get(key)
            try:
                if wanted and subscription is None:
                    subject = self._subjects.deliver_tool_call(*key)
                    self._subscriptions[key] = await self._nc.subscribe(
                        subject, queue=TOOL_BROKER_QUEUE, cb=self._answer
                    )
                    # Registered connectors are told so only once the server knows where to route their calls.
                    await self._nc.flush(timeout=_FLUSH_TIMEOUT)
                elif not wanted and subscription is not None:
                    del self._subscriptions[key]
                    await subscription.unsubscribe()
            except (NatsError, TimeoutError):
                logger.warning("could not update the deliver subscription of a server", exc_info=True)

    async def close(self) -> None:
        async with self._lock:
            subscriptions, self._subscriptions = list(self._subscriptions.values()), {}
        for subscription in subscriptions:
            try:
                await subscription.unsubscribe()
            except NatsError:
                logger.debug("unsubscribe failed while closing", exc_info=True)

    async def _answer(self, msg: Msg) -> None:
        try:
            call = ExecuteToolCall.model_validate_json(msg.data)
        except ValidationError:
            logger.warning("ignored a malformed deliver request")
            refusal: Refusal | None = Refusal.MALFORMED
        else:
            refusal = await self.deliver(call)
        if msg.reply:
            answer = {"accepted": refusal is None, "refusal": refusal.value if refusal else None}
            await msg.respond(json.dumps(answer).encode())
