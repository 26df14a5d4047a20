"""The tool-broker's Prometheus metrics, built once per process: connectors held, and tool calls answered."""

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

from switchboard.common.events import utc_now
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.completion import Completions

__all__ = ["ObservedCompletions", "ToolBrokerMetrics", "sample_nats_rtt", "tool_broker_metrics"]

SERVICE = "tool-broker"
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    600.0,
)  # fmt: skip
RTT_INTERVAL = 15.0


class ToolBrokerMetrics:
    def __init__(self) -> None:
        self.registry = _service_registry()
        self.connectors = Gauge(
            "switchboard_tool_broker_connectors",
            "Connectors held by this replica, by transport.",
            ["transport"],
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "switchboard_tool_calls",
            "Tool calls answered, by outcome (success or error).",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.tool_call_duration = Histogram(
            "switchboard_tool_call_duration_seconds",
            "From the call's creation (the orchestrator's clock) to its result being sent.",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.nats_rtt = Gauge(
            "switchboard_nats_rtt_seconds", "Round trip to the NATS server.", ["service"], registry=self.registry
        )
        self._success = self.tool_calls.labels(SERVICE, "success")
        self._error = self.tool_calls.labels(SERVICE, "error")
        self._duration = self.tool_call_duration.labels(SERVICE)

    def tool_call(self, seconds: float, *, is_error: bool) -> None:
        (self._error if is_error else self._success).inc()
        self._duration.observe(max(seconds, 0.0))  # clocks of two hosts: never a negative duration


def _service_registry() -> CollectorRegistry:
    """This service's own registry (services share a process in tests), with the process, platform and GC collectors."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


@functools.cache
def tool_broker_metrics() -> ToolBrokerMetrics:
    """The process's metrics, in a registry of its own, built on first use."""
    return ToolBrokerMetrics()


class ObservedCompletions(Completions):
    """Counts every result (the connector's, or the broker's own error) as it is sent."""

    async def send(
        self, call: ExecuteToolCall, *, is_error: bool, content: list[dict[str, object]], connection_id: str | None
    ) -> None:
        await super().send(call, is_error=is_error, content=content, connection_id=connection_id)
        seconds = (utc_now() - call.occurred_at).total_seconds()
        tool_broker_metrics().tool_call(seconds, is_error=is_error)


async def sample_nats_rtt(nc: NatsClient, gauge: Gauge, interval: float = RTT_INTERVAL) -> None:
    """Measure the NATS round trip every ``interval`` seconds (a scrape never waits on the bus)."""
    child = gauge.labels(SERVICE)
    while True:
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            started = time.perf_counter()  # not nc.rtt()'s own figure: uvloop's clock ticks in whole milliseconds
            await nc.rtt(timeout=5)
            child.set(time.perf_counter() - started)
        await asyncio.sleep(interval)
