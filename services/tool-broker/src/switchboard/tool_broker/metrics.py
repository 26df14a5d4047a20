"""The tool-broker's Prometheus metrics, built once per process: connectors held, and tool calls answered."""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram

from switchboard.common.events import utc_now
from switchboard.common.metrics import LATENCY_BUCKETS, nats_rtt_gauge, service_registry
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.completion import Completions

__all__ = ["ObservedCompletions", "ToolBrokerMetrics", "tool_broker_metrics"]

SERVICE = "tool-broker"


class ToolBrokerMetrics:
    def __init__(self) -> None:
        self.registry = service_registry()
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
        self.nats_rtt = nats_rtt_gauge(self.registry).labels(SERVICE)
        self._success = self.tool_calls.labels(SERVICE, "success")
        self._error = self.tool_calls.labels(SERVICE, "error")
        self._duration = self.tool_call_duration.labels(SERVICE)

    def tool_call(self, seconds: float, *, is_error: bool) -> None:
        (self._error if is_error else self._success).inc()
        self._duration.observe(max(seconds, 0.0))  # clocks of two hosts: never a negative duration


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
