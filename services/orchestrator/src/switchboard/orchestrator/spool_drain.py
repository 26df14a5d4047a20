"""Replays the spool to the usage stream, oldest first, whenever publishing works again; never on a request's path.

A file is deleted only once JetStream acked it (a duplicate ack included). While the stream is unreachable the
drainer backs off (doubling up to a cap); a publish that works elsewhere in the replica wakes it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

import nats.errors

from switchboard.orchestrator.spool import Spool

__all__ = ["EventPublisher", "SpoolDrainer"]

logger = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
IDLE_RESCAN_SECONDS = 60.0
"""With nothing to do, look at the spool again this often (replicas may share a spool directory)."""
_CANCEL_RETRY_SECONDS = 0.5


class EventPublisher(Protocol):
    async def publish(self, payload: bytes) -> None:
        """Return once the stream acked; raise ``nats.errors.Error`` if not, ``ValueError`` if it never will."""


class SpoolDrainer:
    def __init__(self, stream: EventPublisher, spool: Spool, *, max_backoff: float = MAX_BACKOFF_SECONDS) -> None:
        self._stream = stream
        self.spool = spool
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.failing = False
        """The last publish failed: new events skip their quick retries and go straight to the spool."""

    def start(self) -> None:
        """Begin draining; what an earlier run left in the spool goes first."""
        self._task = asyncio.create_task(self._run(), name="spool-drain")

    async def stop(self) -> None:
        """Stop; whatever is still spooled stays on disk for the next start."""
        task, self._task = self._task, None
        # Again until it ends: a cancel that lands as a publish's reply arrives can be swallowed by the
        # ``wait_for`` inside nats-py's request (Python 3.11), and one cancel would then leave stop() waiting forever.
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=_CANCEL_RETRY_SECONDS)

    async def keep(self, event_id: str, payload: bytes) -> None:
        """Spool an event its publisher gave up on (raises ``OSError`` if the disk refuses it too)."""
        path = await asyncio.to_thread(self.spool.write, event_id, payload)
        logger.warning("usage event %s spooled to %s until the usage stream takes it", event_id, path)
        if not self.failing:  # else the drainer is backing off already and will get to it
            self.failing = True
            self._wake.set()

    def publish_worked(self) -> None:
        """A publish got through: if events are waiting, replay them now rather than after the backoff."""
        if self.failing:
            self.failing = False
            self._wake.set()

    async def drain(self) -> bool:
        """Publish every spooled event in order; ``False`` at the first failure (it and later ones stay)."""
        for path in await asyncio.to_thread(self.spool.pending):
            event = await asyncio.to_thread(self.spool.read, path)
            if event is None:
                continue
            try:
                await self._stream.publish(event.payload)
            except nats.errors.Error as exc:
                logger.info("spool drain paused: %s (%s)", type(exc).__name__, path.name)
                return False
            except ValueError:
                aside = await asyncio.to_thread(self.spool.set_aside, path)
                logger.error("spooled file is not a completion event; set aside as %s", aside)
                continue
            await asyncio.to_thread(self.spool.remove, path)
            logger.info("spooled usage event %s published", path.name)
        return True

    async def _run(self) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            self._wake.clear()  # before draining: an event spooled meanwhile sets it again and is not missed
            try:
                drained = await self.drain()
            except OSError as exc:
                logger.error("spool %s unreadable: %s", self.spool.directory, exc)
                drained = False
            self.failing = not drained
            wait = IDLE_RESCAN_SECONDS if drained else backoff
            backoff = FIRST_BACKOFF_SECONDS if drained else min(backoff * 2, self._max_backoff)
            # Not wait_for: on 3.11 it can swallow a cancel that arrives as the event is set, and stop() would hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
