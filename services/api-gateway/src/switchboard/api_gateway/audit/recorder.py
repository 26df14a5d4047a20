"""Queues audit entries in memory on the request path and batch-inserts them from one background task.

The queue is bounded and drops its oldest entries when full: an audit store that is slow or down must never
block, slow or fail the API itself. Drops are counted (``dropped``) and logged at most once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.api_gateway.audit.tables import COLUMN_LENGTHS, AuditRow

__all__ = ["AuditEntry", "AuditRecorder"]

logger = logging.getLogger(__name__)

_WARN_EVERY = 60.0
_MAX_ATTEMPTS = 5
"""A batch the database refuses this many times in a row is dropped, so one bad batch cannot stall the log."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One API call. ``key_id`` is the key's id, never the key itself."""

    occurred_at: datetime
    request_id: str
    method: str
    endpoint: str
    status: int
    latency_ms: float
    user_id: str | None = None
    key_id: str | None = None
    model: str | None = None
    client_address: str | None = None
    body_excerpt: str | None = None


_ENTRY_FIELDS = tuple(field.name for field in fields(AuditEntry))


class AuditRecorder:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        store_bodies: bool,
        batch_size: int = 200,
        flush_interval: float = 0.5,
        max_queue: int = 100_000,
    ) -> None:
        self.engine = engine
        self.store_bodies = store_bodies
        """Whether request bodies may be kept; when False every ``body_excerpt`` is discarded."""
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._queue: deque[AuditEntry] = deque(maxlen=max_queue)
        self._in_flight: list[AuditEntry] = []  # the batch being written, kept while the database refuses it
        self._attempts = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._dropped = 0
        self._dropped_since_warning = 0
        self._last_warning = -_WARN_EVERY

    @property
    def dropped(self) -> int:
        """Entries lost because the queue was full or the database kept refusing them."""
        return self._dropped

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._in_flight)

    def record(self, entry: AuditEntry) -> None:
        """Queue ``entry``; never waits. When the queue is full the oldest entry is dropped."""
        if not self.store_bodies and entry.body_excerpt is not None:
            entry = replace(entry, body_excerpt=None)
        if len(self._queue) == self._queue.maxlen:
            self._count_dropped(1)
        self._queue.append(entry)
        if len(self._queue) >= self._batch_size:
            self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-recorder")

    async def stop(self) -> None:
        """Stop the background task and write whatever is still queued (one attempt)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._flush()

    async def _flush(self) -> bool:
        """Insert everything queued, a batch per statement; a refused batch is kept for the next attempt."""
        while self._in_flight or self._queue:
            if not self._in_flight:
                count = min(self._batch_size, len(self._queue))
                self._in_flight = [self._queue.popleft() for _ in range(count)]
            try:
                await self._insert(self._in_flight)
            except Exception:
                self._attempts += 1
                logger.exception("could not write %d audit entries (attempt %d)", len(self._in_flight), self._attempts)
                if self._attempts >= _MAX_ATTEMPTS:
                    self._count_dropped(len(self._in_flight))
                    self._in_flight, self._attempts = [], 0
                return False
            self._in_flight, self._attempts = [], 0
        return True

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_interval)
            self._wake.clear()
            if not await self._flush():
                await asyncio.sleep(self._flush_interval)  # back off: a full queue keeps setting the wake event

    async def _insert(self, batch: list[AuditEntry]) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(insert(AuditRow), [_row_values(entry) for entry in batch])

    def _count_dropped(self, count: int) -> None:
        self._dropped += count
        self._dropped_since_warning += count
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY:
            logger.warning(
                "audit log dropped %d entries (%d in total): the audit store is not keeping up",
                self._dropped_since_warning,
                self._dropped,
            )
            self._last_warning, self._dropped_since_warning = now, 0


def _row_values(entry: AuditEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in _ENTRY_FIELDS}  # not asdict(): it deep-copies each value
    for column, length in COLUMN_LENGTHS.items():
        values[column] = _clean(values[column], length)
    values["body_excerpt"] = _clean(entry.body_excerpt, None)
    # SQLite stores datetimes without their offset: always write UTC so comparisons hold on both backends.
    values["occurred_at"] = _utc(entry.occurred_at)
    return values


def _clean(value: str | None, length: int | None) -> str | None:
    # PostgreSQL rejects NUL in text, and a path is percent-decoded: "/v1/%00" would otherwise fail the batch.
    if value is None:
        return None
    return value.replace("\x00", "\ufffd")[:length]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
