"""Routes one ``ExecuteToolCall``: checks it against the registration, then hands it to a connector.

WebSocket servers: a connector on this replica, else the deliver subject (a replica that holds one). Polling
servers: the tool queue. Whatever goes wrong is answered at once with an ``is_error`` result saying what.
"""

from __future__ import annotations

import asyncio
import json
import logging

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from switchboard.common.events import utc_now
from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.calls import deadline_of, is_expired, timed_out
from switchboard.tool_broker.completion import Completions
from switchboard.tool_broker.input_validation import InputValidator
from switchboard.tool_broker.local_delivery import LocalDelivery, Refusal
from switchboard.tool_broker.poll_queue import PollQueue
from switchboard.tool_broker.registrations import Registrations

__all__ = ["Dispatcher"]

logger = logging.getLogger(__name__)

_DELIVER_TIMEOUT = 2.0
_NO_RESPONDER_RETRIES = (0.05, 0.15)
"""Pauses before asking again: the first request after another replica subscribed can miss it."""


class Dispatcher:
    def __init__(
        self,
        nc: NatsClient,
        subjects: Subjects,
        registrations: Registrations,
        local: LocalDelivery,
        queue: PollQueue,
        completions: Completions,
        max_inflight: int,
    ) -> None:
        self._nc = nc
        self._subjects = subjects
        self._registrations = registrations
        self._local = local
        self._queue = queue
        self._completions = completions
        self._max_inflight = max_inflight
        self._validator = InputValidator()
        self._deadlines: set[asyncio.Task[None]] = set()

    async def execute(self, call: ExecuteToolCall) -> None:
        try:
            problem = await self._dispatch(call)
        except Exception:  # the caller must get an answer, not a timeout
            logger.exception("call %s could not be dispatched", call.call_id)
            problem = "the tool-broker could not hand the call on; try again"
        if problem is not None:
            await self._completions.error(call, problem)

    async def redeliver(self, call: ExecuteToolCall, dropped_by: str) -> None:
        """A call whose connector dropped before answering: once more, to another connector, else an error."""
        if call.attempt < 2 and not is_expired(call):
            again = call.model_copy(update={"attempt": call.attempt + 1, "excluded_connection": dropped_by})
            if await self._to_websocket(again) is None:
                return
        await self._completions.error(call, f"the connector for '{call.server_id}' disconnected before answering")

    async def _dispatch(self, call: ExecuteToolCall) -> str | None:
        """``None`` once the call is with a connector (or queued for one), else what went wrong."""
        record = await self._registrations.get(call.user_id, call.server_id)
        if record is None:
            return _no_connector(call.server_id)
        tool = record.tool(call.tool_name)
        if tool is None:
            return f"MCP server '{call.server_id}' has no tool '{call.tool_name}'"
        problem = self._validator.problem(tool.input_schema, call.input)
        if problem is not None:
            return f"invalid input for tool '{call.tool_name}' of MCP server '{call.server_id}': {problem}"
        if record.method == "polling":
            if not await self._queue.enqueue(call):
                return f"the call for MCP server '{call.server_id}' could not be queued; try again"
            self._watch_deadline(call)
            return None
        refusal = await self._to_websocket(call)
        return None if refusal is None else self._explain(refusal, call)

    async def _to_websocket(self, call: ExecuteToolCall) -> Refusal | None:
        refusal = await self._local.deliver(call)
        if refusal is not Refusal.NONE_CONNECTED:
            return refusal
        return await self._via_holder(call)

    async def _via_holder(self, call: ExecuteToolCall) -> Refusal | None:
        subject = self._subjects.deliver_tool_call(call.user_id, call.server_id)
        payload = call.model_dump_json().encode()
        for pause in (*_NO_RESPONDER_RETRIES, None):
            try:
                reply = await self._nc.request(subject, payload, timeout=_DELIVER_TIMEOUT)
            except nats.errors.NoRespondersError:
                if pause is None:
                    return Refusal.NONE_CONNECTED
                await asyncio.sleep(pause)
                continue
            except nats.errors.TimeoutError:
                logger.warning("no holder took call %s in %g s", call.call_id, _DELIVER_TIMEOUT)
                return Refusal.NONE_CONNECTED
            return _refusal_of(reply.data)
        return Refusal.NONE_CONNECTED

    def _watch_deadline(self, call: ExecuteToolCall) -> None:
        task = asyncio.create_task(self._answer_when_overdue(call))
        self._deadlines.add(task)
        task.add_done_callback(self._deadlines.discard)

    async def _answer_when_overdue(self, call: ExecuteToolCall) -> None:
        """A queued call nobody answered by its deadline is answered as timed out (if still pending)."""
        await asyncio.sleep(max(0.0, (deadline_of(call) - utc_now()).total_seconds()))
        try:
            pending = await self._queue.settle(call.call_id, call.user_id, allow_expired=True)
        except NatsError:
            return  # the orchestrator stops waiting on its own
        if pending is not None:
            await self._completions.error(call, timed_out(call))

    def close(self) -> None:
        for task in self._deadlines:
            task.cancel()

    def _explain(self, refusal: Refusal, call: ExecuteToolCall) -> str:
        if refusal is Refusal.BUSY:
            return f"the connector for MCP server '{call.server_id}' is busy ({self._max_inflight} calls in flight)"
        if refusal is Refusal.EXPIRED:
            return "the tool call's deadline passed before it reached a connector"
        return _no_connector(call.server_id)


def _no_connector(server_id: str) -> str:
    return f"no connector for MCP server '{server_id}' is connected"


def _refusal_of(data: bytes) -> Refusal | None:
    try:
        answer = json.loads(data)
        if answer.get("accepted") is True:
            return None
        return Refusal(answer.get("refusal"))
    except (ValueError, AttributeError):
        return Refusal.NONE_CONNECTED
