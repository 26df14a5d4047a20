"""Who is connected, across replicas: one ``tool_connections_bucket`` entry per live connector.

Each replica refreshes the entries of its own connectors (WebSocket connections, and pollers seen within
``POLL_LIVE_WINDOW``) every ``PRESENCE_TTL / 3`` seconds in one task, and in between, every
``_CHANGE_INTERVAL``, rewrites those whose calls in flight changed; the bucket's TTL removes the entries of a
replica that died. ``/api/mcp/status``, ``/api/mcp/servers`` and ``ListTools`` read it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nats.errors import Error as NatsError
from nats.js.kv import KeyValue
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from switchboard.common.events import utc_now
from switchboard.common.ids import new_id
from switchboard.tool_broker.connections import Connection, ConnectionRegistry
from switchboard.tool_broker.kv_keys import connection_key, user_filter
from switchboard.tool_broker.registrations import Method
from switchboard.tool_broker.stores import PRESENCE_TTL, KeyLister

__all__ = ["POLL_LIVE_WINDOW", "Presence", "PresenceRecord"]

logger = logging.getLogger(__name__)

POLL_LIVE_WINDOW = 120.0
"""A polling connector counts as connected this long after its last poll."""
_REFRESH_INTERVAL = PRESENCE_TTL / 3
_CHANGE_INTERVAL = 0.5
"""How stale ``inflight`` in ``/status`` may be; at most two writes a second per busy connection."""
_REFRESH_CONCURRENCY = 64


class PresenceRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    connection_id: str
    user_id: str
    server_id: str
    method: Method
    broker: str
    connected_at: AwareDatetime
    last_seen: AwareDatetime
    inflight: int = 0


@dataclass(slots=True)
class _Poller:
    poller_id: str
    connected_at: datetime = field(default_factory=utc_now)
    last_poll: float = field(default_factory=time.monotonic)
    last_poll_at: datetime = field(default_factory=utc_now)


class Presence:
    def __init__(
        self, kv: KeyValue, lister: KeyLister, instance: str, registry: ConnectionRegistry, idle_timeout: float
    ) -> None:
        self._kv = kv
        self._lister = lister
        self._instance = instance
        self._registry = registry
        self._idle_timeout = idle_timeout
        self._pollers: dict[tuple[str, str], _Poller] = {}
        self._written: dict[str, int] = {}
        """Calls in flight as last written, by connection id."""

    async def connected(self, connection: Connection) -> None:
        await self._put(self._of_connection(connection))

    async def disconnected(self, connection: Connection) -> None:
        self._written.pop(connection.connection_id, None)
        await self._delete(connection.user_id, connection.connection_id)

    async def polled(self, user_id: str, server_id: str) -> str:
        """Note a poll; returns the poller's id (one per user, server and replica)."""
        poller = self._pollers.get((user_id, server_id))
        if poller is None:
            poller = self._pollers[(user_id, server_id)] = _Poller(new_id("mcpp"))
        else:
            poller.last_poll, poller.last_poll_at = time.monotonic(), utc_now()
        await self._put(self._of_poller(user_id, server_id, poller))
        return poller.poller_id

    def live_pollers(self) -> int:
        """Polling connectors this replica heard from within ``POLL_LIVE_WINDOW`` (the connectors gauge)."""
        now = time.monotonic()
        return sum(1 for poller in self._pollers.values() if now - poller.last_poll <= POLL_LIVE_WINDOW)

    async def withdraw(self) -> None:
        """On shutdown: this replica's pollers are gone with it (its WebSocket entries went with their sockets)."""
        pollers, self._pollers = self._pollers, {}
        for (user_id, _), poller in pollers.items():
            await self._delete(user_id, poller.poller_id)

    async def of_user(self, user_id: str) -> list[PresenceRecord]:
        records: list[PresenceRecord] = []
        for value in await self._lister.values(user_filter(user_id)):
            try:
                record = PresenceRecord.model_validate_json(value)
            except ValidationError:
                continue
            if record.user_id == user_id:
                records.append(record)
        return sorted(records, key=lambda r: (r.server_id, r.connected_at))

    def healthy(self, record: PresenceRecord, now: datetime) -> bool:
        window = self._idle_timeout if record.method == "websocket" else POLL_LIVE_WINDOW
        return now - record.last_seen <= timedelta(seconds=window)

    async def run(self) -> None:
        """Keep this replica's entries current until cancelled."""
        refreshed = time.monotonic()
        while True:
            await asyncio.sleep(_CHANGE_INTERVAL)
            try:
                if time.monotonic() - refreshed >= _REFRESH_INTERVAL:
                    refreshed = time.monotonic()
                    await self.refresh()
                else:
                    await self._write(
                        [c for c in self._serving() if self._written.get(c.connection_id) != len(c.inflight)]
                    )
            except Exception:  # the loop must outlive a NATS hiccup
                logger.warning("presence refresh failed", exc_info=True)

    async def refresh(self) -> None:
        await self._write(self._serving(), await self._live_pollers())

    def _serving(self) -> list[Connection]:
        return [c for c in self._registry if c.server_id is not None and not c.closed]

    async def _write(self, connections: list[Connection], pollers: list[PresenceRecord] | None = None) -> None:
        records = [self._of_connection(connection) for connection in connections] + (pollers or [])
        for start in range(0, len(records), _REFRESH_CONCURRENCY):
            await asyncio.gather(*(self._put(record) for record in records[start : start + _REFRESH_CONCURRENCY]))
        # A connection that closed while its entry was being written may have had its deletion overtaken.
        for gone in [connection for connection in connections if connection.closed]:
            await self._delete(gone.user_id, gone.connection_id)

    async def _live_pollers(self) -> list[PresenceRecord]:
        now = time.monotonic()
        gone = [key for key, poller in self._pollers.items() if now - poller.last_poll > POLL_LIVE_WINDOW]
        for key in gone:
            poller = self._pollers.pop(key)
            await self._delete(key[0], poller.poller_id)
        return [self._of_poller(user, server, poller) for (user, server), poller in self._pollers.items()]

    def _of_connection(self, connection: Connection) -> PresenceRecord:
        self._written[connection.connection_id] = len(connection.inflight)
        return PresenceRecord(
            connection_id=connection.connection_id, user_id=connection.user_id, server_id=connection.server_id or "",
            method="websocket", broker=self._instance, connected_at=connection.connected_at,
            last_seen=connection.last_heard_at, inflight=len(connection.inflight),
        )  # fmt: skip

    def _of_poller(self, user_id: str, server_id: str, poller: _Poller) -> PresenceRecord:
        return PresenceRecord(
            connection_id=poller.poller_id, user_id=user_id, server_id=server_id, method="polling",
            broker=self._instance, connected_at=poller.connected_at, last_seen=poller.last_poll_at,
        )  # fmt: skip

    async def _put(self, record: PresenceRecord) -> None:
        try:
            await self._kv.put(connection_key(record.user_id, record.connection_id), record.model_dump_json().encode())
        except (NatsError, TimeoutError):
            logger.warning("could not record the presence of %s", record.connection_id)

    async def _delete(self, user_id: str, connection_id: str) -> None:
        try:
            await self._kv.delete(connection_key(user_id, connection_id))
        except (NatsError, TimeoutError):
            logger.warning("could not remove the presence of %s", connection_id)
