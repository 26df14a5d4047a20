"""The WebSocket connectors this replica holds: each connection's state, and the index to find them by server.

Everything here is in memory and local to one replica; other replicas reach these connections through the
deliver subject (``local_delivery``), and everyone sees them through presence (``presence``).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel
from starlette.websockets import WebSocketDisconnect

from switchboard.common.events import utc_now
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.token_bucket import TokenBucket

__all__ = ["Connection", "ConnectionRegistry", "ServerKey", "Socket"]

ServerKey = tuple[str, str]
"""``(user_id, server_id)``."""


class Socket(Protocol):
    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


@dataclass(eq=False, slots=True)
class Connection:
    connection_id: str
    user_id: str
    credential_digest: str
    socket: Socket
    bucket: TokenBucket
    connected_at: datetime = field(default_factory=utc_now)
    server_id: str | None = None
    """Set by ``register_tools``; until then the connection serves nothing."""
    tools: list[str] = field(default_factory=list)
    inflight: dict[str, ExecuteToolCall] = field(default_factory=dict)
    last_heard: float = field(default_factory=time.monotonic)
    last_heard_at: datetime = field(default_factory=utc_now)
    last_ping: float = field(default_factory=time.monotonic)
    closed: bool = False

    def heard(self) -> None:
        self.last_heard = time.monotonic()
        self.last_heard_at = utc_now()

    async def send(self, message: BaseModel) -> bool:
        """Send one protocol message; ``False`` when the connection is already gone."""
        if self.closed:
            return False
        try:
            await self.socket.send_text(message.model_dump_json(exclude_none=True))
        except (WebSocketDisconnect, RuntimeError, OSError):
            return False
        return True

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self.socket.close(code, reason)


ServerHook = Callable[[ServerKey], Awaitable[None]]


class ConnectionRegistry:
    """Live connections by id, by served server and by user. ``on_change`` runs when a server's set changes."""

    def __init__(self) -> None:
        self._by_id: dict[str, Connection] = {}
        self._by_server: dict[ServerKey, dict[str, Connection]] = {}
        self._per_user: dict[str, int] = {}
        self.on_change: ServerHook | None = None

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._by_id.values()))

    def count_of(self, user_id: str) -> int:
        return self._per_user.get(user_id, 0)

    def serves(self, key: ServerKey) -> bool:
        return bool(self._by_server.get(key))

    def add(self, connection: Connection) -> None:
        self._by_id[connection.connection_id] = connection
        self._per_user[connection.user_id] = self.count_of(connection.user_id) + 1

    async def serve(self, connection: Connection, server_id: str, tools: list[str]) -> None:
        """The connection now serves ``server_id`` (a re-registration may move it to another server)."""
        previous = connection.server_id
        if previous is not None and previous != server_id:
            self._leave(connection)
        connection.server_id, connection.tools = server_id, tools
        key = (connection.user_id, server_id)
        self._by_server.setdefault(key, {})[connection.connection_id] = connection
        await self._changed(key)
        if previous is not None and previous != server_id:
            await self._changed((connection.user_id, previous))

    async def remove(self, connection: Connection) -> list[ExecuteToolCall]:
        """Forget a closed connection; returns the calls it still had (the caller must not drop them)."""
        if self._by_id.pop(connection.connection_id, None) is None:
            return []
        connection.closed = True
        orphans = list(connection.inflight.values())
        connection.inflight.clear()
        remaining = self.count_of(connection.user_id) - 1
        if remaining > 0:
            self._per_user[connection.user_id] = remaining
        else:
            self._per_user.pop(connection.user_id, None)
        if connection.server_id is not None:
            self._leave(connection)
            await self._changed((connection.user_id, connection.server_id))
        return orphans

    def serving(self, key: ServerKey, excluded: str | None = None) -> list[Connection]:
        """Open connections serving ``key`` (other than ``excluded``), least busy first, ties in random order."""
        found = [c for c in self._by_server.get(key, {}).values() if not c.closed and c.connection_id != excluded]
        return sorted(found, key=lambda c: (len(c.inflight), random.random()))

    def holding(self, credential_digest: str) -> list[Connection]:
        return [c for c in self._by_id.values() if c.credential_digest == credential_digest]

    def _leave(self, connection: Connection) -> None:
        assert connection.server_id is not None
        key = (connection.user_id, connection.server_id)
        group = self._by_server.get(key, {})
        group.pop(connection.connection_id, None)
        if not group:
            self._by_server.pop(key, None)

    async def _changed(self, key: ServerKey) -> None:
        if self.on_change is not None:
            await self.on_change(key)
