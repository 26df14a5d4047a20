"""The gateway's Prometheus metrics: built once per process (each uvicorn worker reports its own), label-bounded."""

from __future__ import annotations

import functools

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from switchboard.common.metrics import LATENCY_BUCKETS, ModelLabels, nats_rtt_gauge, service_registry

__all__ = ["GatewayMetrics", "gateway_metrics"]

SERVICE = "api-gateway"


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry or service_registry()
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
        self.nats_rtt = nats_rtt_gauge(registry).labels(SERVICE)
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


@functools.cache
def gateway_metrics() -> GatewayMetrics:
    """The process's metrics, in a registry of its own, built on first use."""
    return GatewayMetrics()
