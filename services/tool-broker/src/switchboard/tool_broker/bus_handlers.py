"""The tool-broker's NATS subscriptions: tool calls, tool listings, liveness probes and revoked keys.

Calls and listings each run in a task of their own: nats-py runs one subscription's callbacks one after the
other, and a call must not wait for the KV reads of the call before it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from switchboard.common.events import ApiKeyRevoked
from switchboard.common.logs import bind_request_id
from switchboard.common.subjects import TOOL_BROKER_QUEUE, Subjects
from switchboard.common.tool_events import ExecuteToolCall, ListTools, ToolsListed
from switchboard.common.tracing import context_from_headers, span, trace_headers
from switchboard.tool_broker.auth import Authenticator
from switchboard.tool_broker.connections import ConnectionRegistry
from switchboard.tool_broker.dispatcher import Dispatcher
from switchboard.tool_broker.presence import Presence
from switchboard.tool_broker.registrations import Registrations

__all__ = ["REVOKED_CLOSE_CODE", "SERVICE_NAME", "BusHandlers"]

logger = logging.getLogger(__name__)


SERVICE_NAME = "tool-broker"
REVOKED_CLOSE_CODE = 4401


class BusHandlers:
    def __init__(
        self,
        nc: NatsClient,
        subjects: Subjects,
        instance: str,
        *,
        auth: Authenticator,
        registry: ConnectionRegistry,
        dispatcher: Dispatcher,
        registrations: Registrations,
        presence: Presence,
    ) -> None:
        self._nc = nc
        self._subjects = subjects
        self._instance = instance
        self._auth = auth
        self._registry = registry
        self._dispatcher = dispatcher
        self._registrations = registrations
        self._presence = presence
        self._subscriptions: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        subscribe = self._nc.subscribe
        self._subscriptions = [
            await subscribe(self._subjects.execute_tool_call_all, queue=TOOL_BROKER_QUEUE, cb=self._on_execute),
            await subscribe(self._subjects.list_tools, queue=TOOL_BROKER_QUEUE, cb=self._on_list_tools),
            await subscribe(self._subjects.ping(SERVICE_NAME), queue=TOOL_BROKER_QUEUE, cb=self._on_ping),
            await subscribe(self._subjects.api_key_revoked, cb=self._on_key_revoked),
        ]
        await self._nc.flush()

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            try:
                await subscription.unsubscribe()
            except NatsError:
                logger.debug("unsubscribe failed while stopping", exc_info=True)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5.0)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background, kept until it ends (and awaited, briefly, on shutdown)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background work failed", exc_info=task.exception())

    async def _on_execute(self, msg: Msg) -> None:
        try:
            call = ExecuteToolCall.model_validate_json(msg.data)
        except ValidationError as exc:
            logger.warning("ignored a malformed ExecuteToolCall (%d errors)", exc.error_count())
            return
        call = call.model_copy(update={"reply_subject": msg.reply or call.reply_subject})
        self.spawn(self._execute(call, msg.headers))

    async def _execute(self, call: ExecuteToolCall, headers: dict[str, str] | None) -> None:
        """Hand ``call`` on in the orchestrator's trace, its request id on every line (the task's own context)."""
        bind_request_id(call.request_id)
        parent = context_from_headers(headers)
        name = f"execute_tool {call.tool_name}"
        with span(name, parent=parent, kind=SpanKind.CONSUMER) as current:
            if current.is_recording():
                current.set_attributes({"gen_ai.tool.name": call.tool_name, "switchboard.mcp_server": call.server_id})
            logger.debug("tool call %s for %s/%s", call.call_id, call.server_id, call.tool_name)
            await self._dispatcher.execute(call.model_copy(update={"traceparent": trace_headers().get("traceparent")}))

    async def _on_list_tools(self, msg: Msg) -> None:
        self.spawn(self._list_tools(msg))

    async def _list_tools(self, msg: Msg) -> None:
        try:
            query = ListTools.model_validate_json(msg.data)
        except ValidationError:
            logger.warning("ignored a malformed ListTools request")
            return
        records = await self._registrations.of_user(query.user_id)
        if query.live_only:
            live = {record.server_id for record in await self._presence.of_user(query.user_id)}
            records = [record for record in records if record.server_id in live]
        if msg.reply:
            listed = ToolsListed(tools=[tool for record in records for tool in record.tools])
            await msg.respond(listed.model_dump_json().encode())

    async def _on_ping(self, msg: Msg) -> None:
        if msg.reply:
            await msg.respond(json.dumps({"instance": self._instance, "connections": len(self._registry)}).encode())

    async def _on_key_revoked(self, msg: Msg) -> None:
        try:
            revoked = ApiKeyRevoked.model_validate_json(msg.data)
        except ValidationError:
            logger.warning("ignored a malformed ApiKeyRevoked event")
            return
        self._auth.forget(revoked.secret_hash)
        for connection in self._registry.holding(revoked.secret_hash):
            await connection.close(REVOKED_CLOSE_CODE, "the API key was revoked")
