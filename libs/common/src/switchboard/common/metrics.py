"""What every service's Prometheus metrics share: the names the dashboard reads, a registry of the service's own, the
latency buckets, the capped ``model`` label and the round-trip sampler (handed its ping: common does no I/O)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Gauge, GCCollector, PlatformCollector, ProcessCollector

__all__ = [
    "LATENCY_BUCKETS",
    "MODEL_LABEL_CAP",
    "OTHER",
    "RTT_INTERVAL",
    "ModelLabels",
    "nats_rtt_gauge",
    "sample_round_trip",
    "service_registry",
]

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    600.0,
)  # fmt: skip
"""Sub-millisecond (a refused request) to ten minutes (a long generation), for every latency histogram."""
MODEL_LABEL_CAP = 100
OTHER = "other"
RTT_INTERVAL = 15.0


def service_registry() -> CollectorRegistry:
    """A registry of the service's own (services share a process in tests), with process, platform and GC collectors."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def nats_rtt_gauge(registry: CollectorRegistry) -> Gauge:
    """``switchboard_nats_rtt_seconds{service}``, the same series name in every service."""
    return Gauge("switchboard_nats_rtt_seconds", "Round trip to the NATS server.", ["service"], registry=registry)


class ModelLabels:
    """The ``model`` label's values: models that routed, the first ``cap`` of them; anything else is ``other``.

    Clients choose model strings freely; without a cap every typo would become its own time series forever.
    """

    def __init__(self, cap: int = MODEL_LABEL_CAP) -> None:
        self._cap = cap
        self._known: set[str] = set()

    def label(self, model: str | None, *, routed: bool) -> str:
        if not model:
            return ""
        if model in self._known:
            return model
        if not routed or len(self._known) >= self._cap:
            return OTHER
        self._known.add(model)
        return model


async def sample_round_trip(
    ping: Callable[[], Awaitable[object]],
    gauge: Gauge,
    failures: tuple[type[BaseException], ...],
    interval: float = RTT_INTERVAL,
) -> None:
    """Time ``ping`` every ``interval`` seconds into ``gauge`` (a scrape never waits on the bus); ``failures`` skip a
    sample. Timed here, not by nats-py's ``rtt()``: under uvloop its clock ticks in whole milliseconds."""
    while True:
        with contextlib.suppress(*failures):
            started = time.perf_counter()
            await ping()
            gauge.set(time.perf_counter() - started)
        await asyncio.sleep(interval)
