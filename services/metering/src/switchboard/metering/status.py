"""``MeteringStatus``: how far billing is behind, whether Lago answers, how many dead letters wait."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from switchboard.common.events import CompletionRecorded, utc_now
from switchboard.common.subjects import Subjects
from switchboard.common.usage_events import MeteringStatus
from switchboard.metering.lago_client import LagoClient

__all__ = ["StatusReporter"]

PROBE_CACHE_SECONDS = 5.0


class StatusReporter:
    def __init__(self, js: JetStreamContext, subjects: Subjects, lago: LagoClient | None) -> None:
        self._js, self._subjects, self._lago = js, subjects, lago
        self._probe_lock = asyncio.Lock()
        self._probed: tuple[float, bool] | None = None

    async def status(self) -> MeteringStatus:
        pending, oldest = await self._backlog()
        lag = max(0.0, (utc_now() - oldest).total_seconds()) if oldest is not None else 0.0
        return MeteringStatus(
            pending=pending,
            oldest_unbilled_at=oldest,
            lag_seconds=lag,
            lago_reachable=await self._reachable(),
            dead_letters=await self._dead_letters(),
        )

    async def _backlog(self) -> tuple[int, datetime | None]:
        stream = self._subjects.usage_stream
        try:
            info = await self._js.consumer_info(stream, self._subjects.usage_consumer)
        except NotFoundError:
            return await self._unconsumed(stream)
        pending = (info.num_pending or 0) + (info.num_ack_pending or 0)
        if not pending:
            return 0, None
        # Everything up to the ack floor is acked, so the first matching message after it is the oldest unbilled.
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        return pending, await self._oldest_after(stream, floor)

    async def _unconsumed(self, stream: str) -> tuple[int, datetime | None]:
        """Before the consumer exists (a replica still starting) nothing is billed: the whole stream is pending."""
        try:
            state = (await self._js.stream_info(stream)).state
        except NotFoundError:
            return 0, None
        if not state.messages:
            return 0, None
        return state.messages, await self._oldest_after(stream, max(state.first_seq - 1, 0))

    async def _oldest_after(self, stream: str, seq: int) -> datetime | None:
        try:
            wildcard = self._subjects.completion_recorded_all
            raw = await self._js.get_msg(stream, seq=seq + 1, subject=wildcard, next=True)
        except NotFoundError:
            return None
        try:
            return CompletionRecorded.model_validate_json(raw.data or b"").occurred_at
        except ValidationError:
            return raw.time

    async def _dead_letters(self) -> int:
        try:
            info = await self._js.stream_info(self._subjects.usage_dead_letter_stream)
        except NotFoundError:
            return 0
        return info.state.messages

    async def _reachable(self) -> bool | None:
        if self._lago is None:
            return None
        async with self._probe_lock:  # concurrent status requests share one probe
            if self._probed is None or time.monotonic() - self._probed[0] > PROBE_CACHE_SECONDS:
                self._probed = (time.monotonic(), await self._lago.reachable())
            return self._probed[1]
