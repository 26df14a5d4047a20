"""The polling link: register over HTTP, then long-poll ``/api/mcp/poll`` and submit results to ``/api/mcp/submit``.

For networks that do not pass WebSockets. Calls wait for the poller in the broker's durable queue, so calls
already taken keep running through a network outage and their results are submitted once it is over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from switchboard.cli.connect.backoff import Backoff
from switchboard.cli.connect.broker_http import BrokerHttp
from switchboard.cli.connect.calls import CallRunner
from switchboard.cli.connect.errors import LinkDroppedError
from switchboard.cli.connect.mcp_bridge import McpBridge
from switchboard.cli.connect.options import ConnectOptions
from switchboard.common.mcp_protocol import (
    PollRequest,
    RegisterRequest,
    SubmitRequest,
    ToolCallMessage,
    ToolDefinition,
    ToolResult,
)

__all__ = ["PollingLink"]

log = logging.getLogger(__name__)

MAX_CALLS_PER_POLL = 100
SUBMIT_ATTEMPTS = 5
IDLE_PAUSE = 1.0
"""Pause between empty polls when ``--poll-wait 0`` makes every poll return at once."""


class PollingLink:
    def __init__(
        self,
        options: ConnectOptions,
        http: BrokerHttp,
        bridge: McpBridge,
        server_id: str,
        tools: Sequence[ToolDefinition],
    ) -> None:
        self._options = options
        self._http = http
        self._server_id = server_id
        self._tools = list(tools)
        # One runner for the link's whole life: a dropped poll does not cancel the calls already taken.
        self._runner = CallRunner(bridge, options.max_concurrency)

    async def serve(self, on_registered: Callable[[], None]) -> None:
        """Register, then poll until the broker cannot be reached (:class:`LinkDroppedError`)."""
        user_id = await self._http.user_id()
        registration = RegisterRequest(
            user_id=user_id, server_id=self._server_id, tools=list(self._tools), method="polling"
        )
        await self._http.register(registration)
        log.info(
            "connected to %s as user %s, server %s, %d tools (polling)",
            self._options.display_url,
            user_id,
            self._server_id,
            len(self._tools),
        )
        on_registered()
        while True:
            await self._runner.wait_for_slot()
            max_calls = min(MAX_CALLS_PER_POLL, self._runner.free_slots)
            request = PollRequest(
                user_id=user_id, server_id=self._server_id, wait=self._options.poll_wait, max_calls=max_calls
            )
            pending = (await self._http.poll(request)).pending_calls
            for call in pending:
                self._runner.start(call, self._submit)
            if not pending and self._options.poll_wait == 0:
                await asyncio.sleep(IDLE_PAUSE)

    async def aclose(self) -> None:
        await self._runner.aclose()

    async def _submit(self, call: ToolCallMessage, result: ToolResult) -> None:
        backoff = Backoff()
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                if not await self._http.submit(SubmitRequest(call_id=call.call_id, result=result)):
                    log.debug("call %s: the broker no longer waits for its result", call.call_id)
                return
            except LinkDroppedError as exc:
                if attempt == SUBMIT_ATTEMPTS:
                    raise
                delay = backoff.next_delay()
                log.debug("submitting call %s failed (%s); again in %.1f s", call.call_id, exc, delay)
                await asyncio.sleep(delay)
