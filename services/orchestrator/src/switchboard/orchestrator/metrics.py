"""The orchestrator's Prometheus metrics, built once per process; model labels capped so clients cannot grow them."""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram

from switchboard.common.metrics import LATENCY_BUCKETS, ModelLabels, nats_rtt_gauge, service_registry

__all__ = ["OrchestratorMetrics", "orchestrator_metrics"]

SERVICE = "orchestrator"


class OrchestratorMetrics:
    def __init__(self) -> None:
        self.registry = service_registry()
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
        self.nats_rtt = nats_rtt_gauge(self.registry).labels(SERVICE)
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


@functools.cache
def orchestrator_metrics() -> OrchestratorMetrics:
    """The process's metrics, in a registry of its own, built on first use."""
    return OrchestratorMetrics()
