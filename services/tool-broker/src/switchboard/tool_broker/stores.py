"""The JetStream state the tool-broker replicas share: three KV buckets and the queue of calls for pollers.

* ``tool_servers_bucket``: registered MCP servers and their tools (no expiry);
* ``tool_connections_bucket``: presence of live connectors, refreshed by their replica, expiring if it dies;
* ``tool_pending_bucket``: calls handed to polling connectors and not yet answered;
* ``tool_queue_stream``: the calls themselves, waiting for a poller until their deadline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from nats.js.api import KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError
from nats.js.kv import KeyValue

from switchboard.common.subjects import Subjects

__all__ = ["PENDING_TTL", "PRESENCE_TTL", "QUEUE_MAX_AGE", "Stores", "entries", "open_stores"]

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


async def entries(kv: KeyValue, key_filter: str) -> list[KeyValue.Entry]:
    """The current entries whose keys match ``key_filter`` (e.g. ``<user>.*``); deleted keys are left out."""
    watcher = await kv.watch(key_filter, ignore_deletes=True)
    found: list[KeyValue.Entry] = []
    try:
        async with asyncio.timeout(_LIST_TIMEOUT):
            async for entry in watcher:
                if entry is None:
                    break
                if entry.value:
                    found.append(entry)
    finally:
        await watcher.stop()  # type: ignore[no-untyped-call]
    return found
