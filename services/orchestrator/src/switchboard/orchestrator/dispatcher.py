"""The replica's in-flight requests: admission (bounded), cancellation by request id, and draining."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from switchboard.common.events import ExecuteRequest
from switchboard.common.logs import bind_request_id
from switchboard.common.subjects import subject_token
from switchboard.common.tracing import context_from_headers, span
from switchboard.orchestrator.execution import RequestRun, Services, StopReason

__all__ = ["Dispatcher"]

logger = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, services: Services, max_inflight: int) -> None:
        self._services = services
        self._max_inflight = max_inflight
        self._runs: dict[str, tuple[RequestRun, asyncio.Task[None]]] = {}
        self.accepted_total = 0

    @property
    def inflight(self) -> int:
        return len(self._runs)

    def submit(self, payload: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Start serving an ``ExecuteRequest`` in its own task and return at once.

        Over capacity the request is ignored without ``accepted``: the gateway's accept timeout then answers
        529, and with several replicas the next one in the queue group may have room. ``headers`` (the NATS
        message's) carry the gateway span's ``traceparent``.
        """
        try:
            request = ExecuteRequest.model_validate_json(payload)
        except ValidationError as exc:
            logger.error("dropped a malformed ExecuteRequest (%d validation errors)", exc.error_count())
            return
        key = subject_token(request.request_id)
        if key in self._runs:
            logger.warning("request %s is already being served; duplicate ignored", request.request_id)
            return
        if self.inflight >= self._max_inflight:
            logger.warning("at capacity (%d in flight); request %s not accepted", self.inflight, request.request_id)
            return
        run = RequestRun(request, self._services)
        task = asyncio.create_task(_traced(run, headers), name=f"request-{request.request_id}")
        self._runs[key] = (run, task)
        self.accepted_total += 1
        task.add_done_callback(lambda done: self._forget(key, done))

    def cancel(self, request_token: str, reason: StopReason = "client") -> bool:
        """Stop the request whose subject token is ``request_token``, if this replica runs it."""
        entry = self._runs.get(request_token)
        if entry is None or entry[0].finishing:
            return False
        run, task = entry
        run.stop_reason = reason
        task.cancel()
        return True

    async def drain(self, grace: float) -> None:
        """Let running requests finish for ``grace`` seconds, then stop the rest (they answer 529)."""
        tasks = [task for _, task in self._runs.values()]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for key in list(self._runs):
            self.cancel(key, "shutdown")
        if pending:
            await asyncio.wait(pending)

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        if self._runs.get(key, (None, None))[1] is task:
            del self._runs[key]
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("request task %s failed: %r", task.get_name(), error)


async def _traced(run: RequestRun, headers: Mapping[str, str] | None) -> None:
    """``run`` in the request's trace, its id on every line logged while serving it (the task's own context)."""
    request = run.request
    bind_request_id(request.request_id)
    parent = context_from_headers(headers)
    with span("orchestrate", parent=parent, kind=SpanKind.CONSUMER) as current:
        if current.is_recording():
            current.set_attribute("switchboard.request_id", request.request_id)
            current.set_attribute("gen_ai.request.model", request.model)
        await run.run()
