"""Metering's Prometheus metrics, built once per process, and the task that samples the backlog and NATS."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time

import nats.errors
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from prometheus_client import Counter, Gauge, Histogram

from switchboard.common.metrics import nats_rtt_gauge, service_registry
from switchboard.common.subjects import Subjects

__all__ = ["MeteringMetrics", "failure_reason", "metering_metrics", "sample_backlog"]

SERVICE = "metering"
SAMPLE_INTERVAL = 15.0
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 21600.0, 86400.0)
"""From sub-second (a healthy flush) to a day (Lago was down overnight)."""


class MeteringMetrics:
    def __init__(self) -> None:
        self.registry = service_registry()
        self.pending = Gauge(
            "switchboard_metering_pending_events",
            "Completions on the usage stream not yet billed and acked.",
            registry=self.registry,
        )
        self.billed = Counter(
            "switchboard_metering_billed_events", "Completions billed to Lago by this replica.", registry=self.registry
        )
        self.failures = Counter(
            "switchboard_metering_delivery_failures",
            "Calls to Lago that did not store the batch, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.lag = Histogram(
            "switchboard_metering_delivery_lag_seconds",
            "From a completion's end to Lago accepting its usage.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "switchboard_metering_dead_letters", "Messages on the dead-letter stream.", registry=self.registry
        )
        self.nats_rtt = nats_rtt_gauge(self.registry).labels(SERVICE)


@functools.cache
def metering_metrics() -> MeteringMetrics:
    """The process's metrics, in a registry of its own, built on first use."""
    return MeteringMetrics()


def failure_reason(status: int | None, network_failure: str | None) -> str:
    """``timeout`` / ``connection`` without an answer, else ``http_429``, ``http_5xx`` or ``http_4xx``."""
    if status is None:
        return network_failure or "connection"
    if status == 429:
        return "http_429"
    return "http_5xx" if status >= 500 else "http_4xx"


async def sample_backlog(nc: Client, subjects: Subjects, interval: float = SAMPLE_INTERVAL) -> None:
    """Every ``interval`` seconds: the consumer's backlog, the dead letters and the NATS round trip."""
    metrics = metering_metrics()
    js = nc.jetstream()
    while True:
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            started = time.perf_counter()  # not nc.rtt()'s own figure: uvloop's clock ticks in whole milliseconds
            await nc.rtt(timeout=5)
            metrics.nats_rtt.set(time.perf_counter() - started)
            info = await js.consumer_info(subjects.usage_stream, subjects.usage_consumer)
            metrics.pending.set((info.num_pending or 0) + (info.num_ack_pending or 0))
        with contextlib.suppress(NotFoundError, nats.errors.Error, TimeoutError):
            metrics.dead_letters.set((await js.stream_info(subjects.usage_dead_letter_stream)).state.messages)
        await asyncio.sleep(interval)
