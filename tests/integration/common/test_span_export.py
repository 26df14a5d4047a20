"""Spans leave over OTLP/HTTP to the collector the standard environment variables name, across its outages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.otlp_collector import FakeCollector
from switchboard.common.tracing import current_trace_ids, tracer_provider


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCollector]:
    with FakeCollector() as fake:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", fake.url)
        yield fake


def test_spans_reach_the_collector_with_the_service_name(collector: FakeCollector) -> None:
    provider = tracer_provider("orchestrator", "otlp")
    with provider.get_tracer("test").start_as_current_span("orchestrate"):
        ids = current_trace_ids()
    provider.shutdown()  # flushes the batch
    assert ids is not None
    (span,) = collector.spans(ids[0])
    assert (span.service, span.name, span.span_id, span.parent_span_id) == (
        "switchboard-orchestrator",
        "orchestrate",
        ids[1],
        "",
    )


def test_a_collector_that_answers_503_gets_the_spans_on_a_retry(collector: FakeCollector) -> None:
    collector.fail_next(1)
    provider = tracer_provider("metering", "otlp")
    with provider.get_tracer("test").start_as_current_span("bill"):
        ids = current_trace_ids()
    provider.shutdown()
    assert ids is not None
    assert [span.name for span in collector.spans(ids[0])] == ["bill"]
    assert len(collector.requests) == 2


def test_a_sample_ratio_of_zero_records_no_new_trace(collector: FakeCollector) -> None:
    provider = tracer_provider("api-gateway", "otlp", sample_ratio=0.0)
    with provider.get_tracer("test").start_as_current_span("GET /v1/models") as span:
        assert not span.is_recording()
    provider.shutdown()
    assert collector.spans() == []
