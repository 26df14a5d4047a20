"""The JetStream state the tool-broker replicas share: three KV buckets and the queue of calls for pollers.

* ``tool_servers_bucket``: registered MCP servers and their tools (no expiry);
* ``tool_connections_bucket``: presence of live connectors, refreshed by their replica, expiring if it dies;
* ``tool_pending_bucket``: calls handed to polling connectors and not yet answered;
* ``tool_queue_stream``: the calls themselves, waiting for a poller until their deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import nats.errors
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError
from nats.js.kv import KeyValue

from switchboard.common.subjects import Subjects

__all__ = ["PENDING_TTL", "PRESENCE_TTL", "QUEUE_MAX_AGE", "KeyLister", "Stores", "open_stores"]

PRESENCE_TTL = 30.0
"""Seconds a presence entry outlives its last refresh (replicas refresh theirs every ``PRESENCE_TTL / 3``)."""
PENDING_TTL = 3600.0
QUEUE_MAX_AGE = 3600.0
"""No tool call waits longer than this for a poller (calls time out long before)."""
_LIST_TIMEOUT = 5.0
_STREAM_IN_USE = 10058


@dataclass(frozen=True, slots=True)
class Stores:
    js: JetStreamContext
    servers: KeyValue
    connections: KeyValue
    pending: KeyValue
    queue_stream: str


async def open_stores(js: JetStreamContext, subjects: Subjects) -> Stores:
    """Create (or bind to) the buckets and the queue stream; safe for several replicas starting at once."""
    servers = await _bucket(js, KeyValueConfig(bucket=subjects.tool_servers_bucket, storage=StorageType.FILE))
    connections = await _bucket(
        js, KeyValueConfig(bucket=subjects.tool_connections_bucket, ttl=PRESENCE_TTL, storage=StorageType.MEMORY)
    )
    pending = await _bucket(
        js, KeyValueConfig(bucket=subjects.tool_pending_bucket, ttl=PENDING_TTL, storage=StorageType.FILE)
    )
    stream = StreamConfig(
        name=subjects.tool_queue_stream,
        subjects=subjects.tool_queue_stream_subjects,
        retention=RetentionPolicy.LIMITS,
        max_age=QUEUE_MAX_AGE,
        storage=StorageType.FILE,
        duplicate_window=120.0,
    )
    try:
        await js.add_stream(stream)
    except BadRequestError as exc:
        if exc.err_code != _STREAM_IN_USE:
            raise
        await js.update_stream(stream)
    return Stores(js, servers, connections, pending, subjects.tool_queue_stream)


async def _bucket(js: JetStreamContext, config: KeyValueConfig) -> KeyValue:
    try:
        return await js.create_key_value(config)
    except BadRequestError as exc:
        if exc.err_code != _STREAM_IN_USE:
            raise
        # Created earlier with other limits (an older release): use it as it is rather than fail to start.
        return await js.key_value(config.bucket)


@dataclass(frozen=True, slots=True)
class KeyLister:
    """Reads the current values of one bucket's keys under a filter, e.g. ``<user>.*``."""

    js: JetStreamContext
    bucket: str

    async def values(self, key_filter: str) -> list[bytes]:
        """The value of every live key matching ``key_filter`` (deleted, purged and expired keys left out).

        A pull consumer, not ``KeyValue.watch``: nats-py's watch may report "no more entries" from consumer info
        taken after the server already pushed them, so a busy process got an empty list for a full bucket. Here
        nothing moves before ``fetch``, so the consumer's pending count is the exact number of keys to read.
        """
        stream = f"KV_{self.bucket}"
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
            ack_policy=AckPolicy.NONE,
            mem_storage=True,
            inactive_threshold=_LIST_TIMEOUT * 2,  # the server removes it should the delete below not happen
        )
        subscription = await self.js.pull_subscribe(f"$KV.{self.bucket}.{key_filter}", stream=stream, config=config)
        found: dict[str, bytes | None] = {}
        name = ""
        try:
            info = await subscription.consumer_info()
            name, remaining = info.name, info.num_pending or 0
            async with asyncio.timeout(_LIST_TIMEOUT):
                while remaining > 0:
                    for msg in await subscription.fetch(remaining, timeout=_LIST_TIMEOUT):
                        remaining = msg.metadata.num_pending or 0
                        found[msg.subject] = None if _is_removal(msg.headers) else msg.data
        finally:
            await subscription.unsubscribe()
            if name:
                with contextlib.suppress(nats.errors.Error):
                    await self.js.delete_consumer(stream, name)
        return [value for value in found.values() if value]


def _is_removal(headers: dict[str, str] | None) -> bool:
    """A delete or purge marker, written by a client or by the server when an entry's TTL ran out."""
    if not headers:
        return False
    return headers.get("KV-Operation") in ("DEL", "PURGE") or "Nats-Marker-Reason" in headers
