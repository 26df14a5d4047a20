"""The gateway's side of the bus: publish requests, receive each request's reply frames, cancel, ask.

One wildcard subscription per gateway replica receives the frames of all its requests and routes them by
subject to a per-request queue, so no subscription is created per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.errors import BucketNotFoundError
from pydantic import ValidationError

from switchboard.api_gateway.keys.store import KeyStore
from switchboard.api_gateway.reply_channel import ReplyChannel
from switchboard.common.errors import OverloadedError
from switchboard.common.events import ApiKeyRevoked, CancelRequest, ExecuteRequest, ListModels, ModelsListed
from switchboard.common.subjects import Subjects
from switchboard.common.tracing import trace_headers
from switchboard.common.usage_events import (
    DeadLettersListed,
    MeteringStatus,
    QueryDeadLetters,
    QueryUsage,
    UsageReported,
)

__all__ = ["OrchestratorBus"]

logger = logging.getLogger(__name__)

_PAYLOAD_HEADROOM = 64 * 1024
_BODY_TTL_SECONDS = 600.0


class OrchestratorBus:
    def __init__(self, nc: NatsClient, subjects: Subjects) -> None:
        self._nc = nc
        self._subjects = subjects
        self.gateway_id = uuid.uuid4().hex[:12]
        self._reply_prefix = subjects.reply_prefix(self.gateway_id)
        self._channels: dict[str, ReplyChannel] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self._nc.subscribe(f"{self._reply_prefix}.*", cb=self._dispatch, pending_msgs_limit=1_000_000)
        await self._subscription_barrier()

    async def _subscription_barrier(self) -> None:
        """Return once the server routes our reply subject to us.

        ``flush()`` alone is not enough: nats-py can write its PING ahead of a still-queued SUB, so a message
        through the subscription itself is the proof.
        """
        probe = ReplyChannel("ready", on_close=self._forget)
        self._channels[probe.request_id] = probe
        try:
            await self._nc.publish(f"{self._reply_prefix}.{probe.request_id}", b"")
            await asyncio.wait_for(probe.raw_message(), timeout=10)
        finally:
            probe.close()

    async def _dispatch(self, msg: Msg) -> None:
        channel = self._channels.get(msg.subject[len(self._reply_prefix) + 1 :])
        if channel is not None:
            channel.deliver(msg)

    @property
    def connected(self) -> bool:
        return bool(self._nc.is_connected)

    def reply_subject(self, request_id: str) -> str:
        return self._subjects.reply(self.gateway_id, request_id)

    async def submit(self, command: ExecuteRequest) -> ReplyChannel:
        """Publish ``command`` and return the channel its frames will arrive on."""
        channel = ReplyChannel(command.request_id, on_close=self._forget)
        self._channels[command.request_id] = channel
        try:
            payload = await self._encode(command)
            await self._nc.publish(
                self._subjects.execute_request, payload, reply=command.reply_subject, headers=trace_headers() or None
            )
        except NatsError as exc:
            self._forget(command.request_id)
            logger.warning("request %s not published: %s", command.request_id, type(exc).__name__)
            raise OverloadedError("The message bus is unavailable; try again.") from None
        except BaseException:
            self._forget(command.request_id)
            raise
        return channel

    async def _encode(self, command: ExecuteRequest) -> bytes:
        payload = command.model_dump_json().encode()
        if len(payload) <= self._nc.max_payload - _PAYLOAD_HEADROOM:
            return payload
        store = await self._body_store()
        await store.put(command.request_id, command.body.encode())
        offloaded = command.model_copy(update={"body": "", "body_object": command.request_id})
        return offloaded.model_dump_json().encode()

    async def _body_store(self) -> Any:
        js = self._nc.jetstream()
        try:
            return await js.object_store(self._subjects.body_bucket)
        except BucketNotFoundError:
            from nats.js.api import ObjectStoreConfig

            config = ObjectStoreConfig(bucket=self._subjects.body_bucket, ttl=_BODY_TTL_SECONDS)
            return await js.create_object_store(config=config)

    def _forget(self, request_id: str) -> None:
        self._channels.pop(request_id, None)

    def cancel_soon(self, request_id: str, user_id: str) -> None:
        """Tell the orchestrators to stop ``request_id``; safe to call from a cancelled task."""
        task = asyncio.get_running_loop().create_task(self._cancel(request_id, user_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _cancel(self, request_id: str, user_id: str) -> None:
        command = CancelRequest(request_id=request_id, user_id=user_id)
        with contextlib.suppress(Exception):
            subject, payload = self._subjects.cancel_request(request_id), command.model_dump_json().encode()
            await self._nc.publish(subject, payload, headers=trace_headers() or None)

    async def broadcast(self, subject: str, payload: bytes) -> None:
        """A fact every gateway replica must hear (core NATS: replicas that are down rebuild from the DB)."""
        await self._nc.publish(subject, payload)
        await self._nc.flush()

    async def on_key_revoked(self, keys: KeyStore) -> None:
        """Forget revoked keys the moment any replica revokes one."""

        async def forget(msg: Msg) -> None:
            try:
                keys.forget(ApiKeyRevoked.model_validate_json(msg.data).secret_hash)
            except ValidationError:
                logger.warning("ignored a malformed ApiKeyRevoked event")

        await self._nc.subscribe(self._subjects.api_key_revoked, cb=forget)

    async def list_models(self, query: ListModels, timeout: float) -> list[dict[str, Any]]:
        payload = query.model_dump_json().encode()
        reply = await self._nc.request(
            self._subjects.list_models, payload, timeout=timeout, headers=trace_headers() or None
        )
        return [dict(model) for model in ModelsListed.model_validate_json(reply.data).models]

    async def query_usage(self, query: QueryUsage, timeout: float) -> UsageReported:
        payload = query.model_dump_json().encode()
        reply = await self._nc.request(
            self._subjects.query_usage, payload, timeout=timeout, headers=trace_headers() or None
        )
        return UsageReported.model_validate_json(reply.data)

    async def query_dead_letters(self, query: QueryDeadLetters, timeout: float) -> DeadLettersListed:
        payload = query.model_dump_json().encode()
        reply = await self._nc.request(
            self._subjects.query_dead_letters, payload, timeout=timeout, headers=trace_headers() or None
        )
        return DeadLettersListed.model_validate_json(reply.data)

    async def metering_status(self, timeout: float) -> MeteringStatus:
        reply = await self._nc.request(self._subjects.metering_status, b"{}", timeout=timeout)
        return MeteringStatus.model_validate_json(reply.data)

    async def ping(self, service: str, timeout: float) -> dict[str, Any]:
        reply = await self._nc.request(self._subjects.ping(service), b"{}", timeout=timeout)
        answer: dict[str, Any] = json.loads(reply.data)
        return answer

    async def close(self) -> None:
        for task in list(self._background):
            with contextlib.suppress(Exception):
                await task
