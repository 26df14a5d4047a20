"""W3C trace context: continued from headers, carried onward, recorded only when exported or asked to."""

from __future__ import annotations

import secrets

import pytest

from switchboard.common.tracing import (
    configure_tracing,
    context_from_headers,
    current_trace_ids,
    remote_span_context,
    span,
    trace_headers,
    tracer_provider,
)

TRACER = tracer_provider("test", "none").get_tracer("test")


@pytest.fixture(scope="module", autouse=True)
def _installed_provider() -> None:
    """``span`` uses the process's provider, as the services do (installed once: OpenTelemetry keeps the first)."""
    configure_tracing("test", "none")


def parent(flags: str = "01") -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-{flags}", trace_id, span_id


def test_a_span_continues_the_callers_trace_and_hands_itself_on() -> None:
    header, trace_id, span_id = parent()
    with TRACER.start_as_current_span("hop", context=context_from_headers({"traceparent": header})) as span:
        onward = trace_headers()["traceparent"]
        ids = current_trace_ids()
        recording = span.is_recording()
    assert ids is not None
    assert onward == f"00-{trace_id}-{ids[1]}-01"
    assert ids[1] != span_id
    assert recording, "a sampled caller's trace is recorded even without an exporter of our own"


def test_without_a_caller_a_trace_starts_but_nothing_is_recorded() -> None:
    with TRACER.start_as_current_span("hop", context=context_from_headers(None)) as span:
        version, trace_id, _, flags = trace_headers()["traceparent"].split("-")
        assert not span.is_recording()
    assert version == "00" and len(trace_id) == 32 and int(trace_id, 16) and flags in ("00", "02")


def test_an_unsampled_caller_stays_unsampled() -> None:
    header, trace_id, _ = parent("00")
    with TRACER.start_as_current_span("hop", context=context_from_headers({"traceparent": header})) as span:
        onward = trace_headers()["traceparent"]
        assert not span.is_recording()
    assert onward.split("-")[1] == trace_id and onward.endswith("-00")


def test_a_malformed_traceparent_starts_a_new_trace() -> None:
    with TRACER.start_as_current_span("hop", context=context_from_headers({"traceparent": "00-zz-1-01"})):
        ids = current_trace_ids()
    assert ids is not None and ids[0] != "zz"


def test_outside_a_span_there_is_nothing_to_send() -> None:
    assert trace_headers() == {}
    assert current_trace_ids() is None
    assert context_from_headers({}) is None
    assert context_from_headers({"Nats-Msg-Id": "x"}) is None


def test_a_messages_parent_can_be_linked_rather_than_continued() -> None:
    header, trace_id, span_id = parent()
    linked = remote_span_context({"traceparent": header})
    assert linked is not None and (linked.trace_id, linked.span_id) == (int(trace_id, 16), int(span_id, 16))
    assert remote_span_context(None) is None
    assert remote_span_context({"traceparent": "garbage"}) is None


def test_under_an_unsampled_parent_no_span_is_made_and_the_parents_context_is_current() -> None:
    header, trace_id, span_id = parent("00")
    with span("hop", parent=context_from_headers({"traceparent": header})) as current:
        assert current_trace_ids() == (trace_id, span_id)
        assert not current.is_recording()
        assert trace_headers()["traceparent"] == header
    assert current_trace_ids() is None, "the parent's context is detached after the block"


def test_under_a_sampled_parent_or_none_a_span_of_its_own_is_made() -> None:
    header, trace_id, span_id = parent("01")
    with span("hop", parent=context_from_headers({"traceparent": header})):
        ids = current_trace_ids()
    assert ids is not None and ids[0] == trace_id and ids[1] != span_id
    with span("root"):
        root = current_trace_ids()
        with span("child"):
            assert current_trace_ids() == root, "a child of an unsampled root is no span of its own"
    assert root is not None
