"""The gateway's Prometheus metrics: built once per process (each uvicorn worker reports its own), label-bounded."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time

import nats.errors
from nats.aio.client import Client as NatsClient
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

__all__ = [
    "LATENCY_BUCKETS",
    "OTHER",
    "GatewayMetrics",
    "ModelLabels",
    "gateway_metrics",
    "sample_nats_rtt",
]

SERVICE = "api-gateway"
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    600.0,
)  # fmt: skip
"""Sub-millisecond (a refused request) to ten minutes (a long generation), for every latency histogram."""
MODEL_LABEL_CAP = 100
OTHER = "other"
RTT_INTERVAL = 15.0


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


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry or _service_registry()
        self.requests = Counter(
            "switchboard_gateway_requests", "HTTP requests answered, by route template, model and status.",
            ["route", "model", "status"], registry=registry,
        )  # fmt: skip
        self.errors = Counter(
            "switchboard_gateway_errors", "Error responses (and mid-stream error events) by Anthropic error type.",
            ["route", "error_type"], registry=registry,
        )  # fmt: skip
        self.duration = Histogram(
            "switchboard_gateway_request_duration_seconds", "From the request's arrival to its last body byte.",
            ["route", "model"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.ttft = Histogram(
            "switchboard_gateway_time_to_first_token_seconds",
            "Streamed responses: from the request's arrival to its first content_block_delta event written.",
            ["route", "model"], buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.inflight_streams = Gauge(
            "switchboard_gateway_inflight_streams", "Streamed (SSE) responses being written now.", registry=registry
        )
        self.rate_limited = Counter(
            "switchboard_gateway_rate_limited", "Requests refused by the rate limiter, by tier.", ["tier"],
            registry=registry,
        )  # fmt: skip
        self.nats_rtt = Gauge(
            "switchboard_nats_rtt_seconds", "Round trip to the NATS server.", ["service"], registry=registry
        )
        self.models = ModelLabels()
        # Children resolved once per label combination: a dict lookup on the hot path, no lock, no allocation.
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._errors: dict[tuple[str, str], Counter] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}
        self._ttfts: dict[tuple[str, str], Histogram] = {}

    def request_done(self, route: str, model: str, status: int, seconds: float) -> None:
        key = (route, model, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(route, model, str(status))
        counter.inc()
        histogram = self._durations.get((route, model))
        if histogram is None:
            histogram = self._durations[(route, model)] = self.duration.labels(route, model)
        histogram.observe(seconds)

    def first_token(self, route: str, model: str, seconds: float) -> None:
        histogram = self._ttfts.get((route, model))
        if histogram is None:
            histogram = self._ttfts[(route, model)] = self.ttft.labels(route, model)
        histogram.observe(seconds)

    def error(self, route: str, error_type: str) -> None:
        counter = self._errors.get((route, error_type))
        if counter is None:
            counter = self._errors[(route, error_type)] = self.errors.labels(route, error_type)
        counter.inc()


def _service_registry() -> CollectorRegistry:
    """This service's own registry (services share a process in tests), with the process, platform and GC collectors."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


@functools.cache
def gateway_metrics() -> GatewayMetrics:
    """The process's metrics, in a registry of its own, built on first use."""
    return GatewayMetrics()


async def sample_nats_rtt(nc: NatsClient, gauge: Gauge, interval: float = RTT_INTERVAL) -> None:
    """Measure the NATS round trip every ``interval`` seconds (a scrape never waits on the bus)."""
    child = gauge.labels(SERVICE)
    while True:
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            started = time.perf_counter()  # not nc.rtt()'s own figure: uvloop's clock ticks in whole milliseconds
            await nc.rtt(timeout=5)
            child.set(time.perf_counter() - started)
        await asyncio.sleep(interval)
