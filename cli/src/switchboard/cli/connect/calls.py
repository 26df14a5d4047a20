"""Run the tool calls the broker sends, concurrently but at most ``--max-concurrency`` at once.

Both links use it: the WebSocket link replies with a ``tool_result`` message, the polling link with
``POST /api/mcp/submit``. A call whose deadline has passed is dropped unrun: nobody waits for its result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from switchboard.cli.connect.errors import ConnectError, McpServerError
from switchboard.cli.connect.mcp_bridge import McpBridge
from switchboard.common.mcp_protocol import ToolCallMessage, ToolResult

__all__ = ["CallRunner", "Reply", "seconds_left"]

log = logging.getLogger(__name__)

Reply = Callable[[ToolCallMessage, ToolResult], Awaitable[None]]
"""Sends a call's result back the way the call came."""


def seconds_left(deadline: str | None, now: datetime | None = None) -> float | None:
    """Seconds until an ISO-8601 ``deadline`` (``None`` without one or when unreadable; negative once past)."""
    if not deadline:
        return None
    try:
        instant = datetime.fromisoformat(deadline)
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return (instant - (now or datetime.now(UTC))).total_seconds()


class CallRunner:
    def __init__(self, bridge: McpBridge, max_concurrency: int) -> None:
        self._bridge = bridge
        self._max = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def _active(self) -> set[asyncio.Task[None]]:
        return {task for task in self._tasks if not task.done()}

    @property
    def free_slots(self) -> int:
        return max(0, self._max - len(self._active()))

    def start(self, call: ToolCallMessage, reply: Reply) -> None:
        task = asyncio.create_task(self._run(call, reply), name=f"tool-call-{call.call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_for_slot(self) -> None:
        """Return once fewer than ``max_concurrency`` calls are running."""
        while len(active := self._active()) >= self._max:
            await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)

    async def _run(self, call: ToolCallMessage, reply: Reply) -> None:
        async with self._slots:
            left = seconds_left(call.deadline)
            if left is not None and left <= 0:
                log.debug("call %s (%s) dropped: its deadline has passed", call.call_id, call.tool)
                return
            started = time.monotonic()
            try:
                result = await self._bridge.call(call.tool, dict(call.input), timeout=left)
            except McpServerError:
                return  # the server's process ended; the connector stops on McpBridge.wait_exited
            except Exception as exc:  # noqa: BLE001 - one odd call must neither stop the connector nor go unanswered
                log.warning("call %s (%s) failed in the connector: %r", call.call_id, call.tool, exc)
                result = ToolResult(success=False, error=f"the connector could not run the tool: {type(exc).__name__}")
            outcome = "ok" if result.success else "error"
            log.debug("call %s %s: %s in %.2f s", call.call_id, call.tool, outcome, time.monotonic() - started)
        try:
            await reply(call, result)
        except ConnectError as exc:
            log.warning("the result of call %s was not delivered: %s", call.call_id, exc)

    async def aclose(self) -> None:
        """Cancel the calls still running (their link is gone: their results could not be delivered)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
