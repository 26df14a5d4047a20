"""One task per replica that keeps every WebSocket connection honest: pings, idle closes, overdue calls.

A task per connection would cost memory for thousands of idle connectors; one loop over all of them, a few
times per heartbeat interval, costs microseconds per connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from switchboard.common.mcp_protocol import PingMessage
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.calls import is_expired
from switchboard.tool_broker.connections import Connection, ConnectionRegistry

__all__ = ["IDLE_CLOSE_CODE", "Heartbeat"]

logger = logging.getLogger(__name__)

IDLE_CLOSE_CODE = 4408
_PING = PingMessage()


class Heartbeat:
    def __init__(
        self,
        registry: ConnectionRegistry,
        interval: float,
        idle_timeout: float,
        on_overdue: Callable[[ExecuteToolCall], Awaitable[None]],
    ) -> None:
        self._registry = registry
        self._interval = interval
        self._idle_timeout = idle_timeout
        self._on_overdue = on_overdue
        self.period = min(1.0, max(0.05, min(interval, idle_timeout) / 4))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.tick()
            except Exception:  # one bad connection must not stop the heartbeat of all
                logger.exception("heartbeat pass failed")

    async def tick(self) -> None:
        now = time.monotonic()
        for connection in self._registry:
            if connection.closed:
                continue
            if now - connection.last_heard > self._idle_timeout:
                await connection.close(IDLE_CLOSE_CODE, f"nothing heard for {self._idle_timeout:g} s")
                continue
            if now - connection.last_ping >= self._interval:
                connection.last_ping = now
                await connection.send(_PING)
            await self._expire_overdue(connection)

    async def _expire_overdue(self, connection: Connection) -> None:
        overdue = [call for call in connection.inflight.values() if is_expired(call)]
        for call in overdue:
            connection.inflight.pop(call.call_id, None)
            await self._on_overdue(call)
