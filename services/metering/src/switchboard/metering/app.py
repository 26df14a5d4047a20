"""Composition root of the metering service: connects NATS, the ledger and Lago, and runs until SIGTERM.

Raw nats-py rather than FastStream: the consumer needs batches, ``in_progress`` during retries and its own
shutdown order (stop fetching, finish the batch in hand, then close), which FastStream's subscribers hide.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from typing import Any

import nats

from switchboard.common.ids import new_id
from switchboard.metering.billing import Biller
from switchboard.metering.consumer import UsageConsumer
from switchboard.metering.database import create_engine, migrate
from switchboard.metering.dead_letters import DeadLetters, ensure_dead_letter_stream
from switchboard.metering.lago_client import LagoClient
from switchboard.metering.lago_events import EventMapper
from switchboard.metering.ledger import Ledger
from switchboard.metering.metrics import sample_backlog
from switchboard.metering.ops_server import OpsServer
from switchboard.metering.responders import SERVICE_NAME, subscribe_ping, subscribe_queries
from switchboard.metering.settings import MeteringSettings
from switchboard.metering.status import StatusReporter

__all__ = ["SERVICE_NAME", "MeteringService", "create_app"]

logger = logging.getLogger("switchboard.metering")

SHUTDOWN_GRACE_SECONDS = 8.0
"""How long SIGTERM waits for the batch in hand (Lago may be down); what is left is handed back to JetStream."""


class MeteringService:
    def __init__(self, settings: MeteringSettings) -> None:
        self._settings = settings

    def _lago(self) -> LagoClient | None:
        settings = self._settings
        if not settings.lago_api_url:
            logger.warning("LAGO_API_URL is not set: billing is off, usage is written to the ledger only")
            return None
        key = settings.lago_api_key.get_secret_value() if settings.lago_api_key else ""
        return LagoClient(settings.lago_api_url, key, settings.lago_timeout)

    async def run(self) -> None:
        settings, subjects = self._settings, self._settings.subjects
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        consumer: UsageConsumer | None = None

        def ready() -> bool:  # connected, bound to the durable consumer, and not draining
            return consumer is not None and consumer.bound and nc.is_connected and not stopping.is_set()

        ops = OpsServer("0.0.0.0", settings.ops_port, ready) if settings.ops_port else None  # noqa: S104 - probes
        if ops is not None:
            await ops.start()
        nc = await nats.connect(settings.nats_servers(), name=SERVICE_NAME, max_reconnect_attempts=-1)
        engine = create_engine(settings.resolved_database_url())
        lago = self._lago()
        sampler = asyncio.create_task(sample_backlog(nc, subjects))
        try:
            await subscribe_ping(nc, subjects, new_id("mt"))
            await migrate(engine)
            js = nc.jetstream()
            await ensure_dead_letter_stream(js, subjects)
            ledger = Ledger(engine)
            await subscribe_queries(nc, subjects, ledger, StatusReporter(js, subjects, lago))
            mapper = EventMapper(settings.metrics(), settings.lago_subscription_id)
            consumer = UsageConsumer(
                js,
                subjects,
                ledger,
                Biller(lago, mapper, settings.lago_batch_size) if lago else None,
                DeadLetters(js, subjects),
                batch_size=settings.lago_batch_size,
                flush_interval=settings.lago_flush_interval,
                ack_wait=settings.ack_wait,
            )
            await _until_stopped(consumer.run(stopping), stopping)
        finally:
            sampler.cancel()
            with contextlib.suppress(Exception):
                await nc.drain()
            if lago is not None:
                await lago.aclose()
            await engine.dispose()
            if ops is not None:
                await ops.stop()


async def _until_stopped(consuming: Coroutine[Any, Any, None], stopping: asyncio.Event) -> None:
    """Run the consumer; on SIGTERM give its batch in hand a grace period, then cancel it (it naks what is left)."""
    task = asyncio.create_task(consuming)
    stop_wait = asyncio.create_task(stopping.wait())
    await asyncio.wait({task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if not task.done():
        done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_GRACE_SECONDS)
        if not done:
            logger.warning("batch not settled within %.0f s; handed back to JetStream", SHUTDOWN_GRACE_SECONDS)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    stop_wait.cancel()
    if task.done() and not task.cancelled():
        task.result()  # a crashed consumer makes the process exit non-zero


def create_app(settings: MeteringSettings) -> MeteringService:
    """The metering service for ``settings`` (nothing connects until ``run``)."""
    return MeteringService(settings)
