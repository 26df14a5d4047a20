"""The orchestrator's Prometheus metrics, built once per process; model labels capped so clients cannot grow them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time

import nats.errors
from nats.aio.client import Client
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

__all__ = ["LATENCY_BUCKETS", "OTHER", "ModelLabels", "OrchestratorMetrics", "orchestrator_metrics", "sample_nats_rtt"]

SERVICE = "orchestrator"
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    600.0,
)  # fmt: skip
MODEL_LABEL_CAP = 100
OTHER = "other"
RTT_INTERVAL = 15.0


class ModelLabels:
    """The ``model`` label's values: models that routed, the first ``cap`` of them; anything else is ``other``."""

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


class OrchestratorMetrics:
    def __init__(self) -> None:
        self.registry = _service_registry()
        self.requests = Counter(
            "switchboard_orchestrator_requests",
            "Requests served, by provider, requested model and outcome.",
            ["provider", "model", "outcome"],
            registry=self.registry,
        )
        self.upstream_duration = Histogram(
            "switchboard_orchestrator_upstream_duration_seconds",
            "One upstream HTTP call, to the end of its body or stream.",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inflight = Gauge(
            "switchboard_orchestrator_inflight_requests", "Requests this replica is serving.", registry=self.registry
        )
        self.tool_calls = Counter(
            "switchboard_tool_calls",
            "MCP tool calls, by outcome (success or error).",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.tool_call_duration = Histogram(
            "switchboard_tool_call_duration_seconds",
            "One MCP tool call, until its result arrived.",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.nats_rtt = Gauge(
            "switchboard_nats_rtt_seconds", "Round trip to the NATS server.", ["service"], registry=self.registry
        )
        self.models = ModelLabels()
        # Children resolved once per label combination: a dict lookup per request, no lock, no allocation.
        self._requests: dict[tuple[str, str, str], Counter] = {}
        self._upstream: dict[str, Histogram] = {}

    def request_done(self, provider: str, model: str, outcome: str, *, routed: bool) -> None:
        key = (provider, self.models.label(model, routed=routed), outcome)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(*key)
        counter.inc()

    def upstream_call(self, provider: str, seconds: float) -> None:
        histogram = self._upstream.get(provider)
        if histogram is None:
            histogram = self._upstream[provider] = self.upstream_duration.labels(provider)
        histogram.observe(seconds)

    def tool_call(self, seconds: float, *, is_error: bool) -> None:
        self.tool_calls.labels(SERVICE, "error" if is_error else "success").inc()
        self.tool_call_duration.labels(SERVICE).observe(seconds)


def _service_registry() -> CollectorRegistry:
    """This service's own registry (services share a process in tests), with the process, platform and GC collectors."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


@functools.cache
def orchestrator_metrics() -> OrchestratorMetrics:
    """The process's metrics, in a registry of its own, built on first use."""
    return OrchestratorMetrics()


async def sample_nats_rtt(nc: Client, gauge: Gauge, interval: float = RTT_INTERVAL) -> None:
    """Measure the NATS round trip every ``interval`` seconds (a scrape never waits on the bus)."""
    child = gauge.labels(SERVICE)
    while True:
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            started = time.perf_counter()  # not nc.rtt()'s own figure: uvloop's clock ticks in whole milliseconds
            await nc.rtt(timeout=5)
            child.set(time.perf_counter() - started)
        await asyncio.sleep(interval)
