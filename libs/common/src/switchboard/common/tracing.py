"""W3C trace context for every service: spans, and ``traceparent`` carried across HTTP and NATS headers.

Tracing is always on, export is not. Without an exporter (the default) the sampler records nothing of its own:
each hop still continues the caller's trace (or starts one), so ids reach the logs and the next hop, and a
``traceparent`` that arrives sampled is honoured. ``otlp`` sends spans to the collector the standard
``OTEL_EXPORTER_OTLP_*`` variables name; ``console`` prints them (debugging only).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

from opentelemetry import trace
from opentelemetry.context import Context, attach, detach
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import Span, SpanContext, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "INSTRUMENTATION_SCOPE",
    "TraceExporter",
    "configure_tracing",
    "context_from_headers",
    "continued",
    "current_trace_ids",
    "hex_ids",
    "remote_span_context",
    "span",
    "trace_headers",
    "tracer",
    "tracer_provider",
]

TraceExporter = Literal["none", "otlp", "console"]

_PROPAGATOR = TraceContextTextMapPropagator()


def configure_tracing(service: str, exporter: TraceExporter, sample_ratio: float = 1.0) -> TracerProvider:
    """Install this process's tracer provider; call once, at start-up, and ``shutdown()`` it on exit."""
    provider = tracer_provider(service, exporter, sample_ratio)
    trace.set_tracer_provider(provider)
    tracer.cache_clear()  # tracers asked for before this were proxies
    return provider


def tracer_provider(service: str, exporter: TraceExporter, sample_ratio: float = 1.0) -> TracerProvider:
    """The provider :func:`configure_tracing` installs, not installed."""
    sampler: Sampler = ParentBased(ALWAYS_OFF) if exporter == "none" else ParentBased(TraceIdRatioBased(sample_ratio))
    provider = TracerProvider(sampler=sampler, resource=Resource.create({"service.name": f"switchboard-{service}"}))
    processor = _processor(exporter)
    if processor is not None:
        provider.add_span_processor(processor)
    return provider


def _processor(exporter: TraceExporter) -> SpanProcessor | None:
    # Imported only when asked for: the OTLP exporter brings protobuf and an HTTP client of its own.
    if exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        return BatchSpanProcessor(OTLPSpanExporter())
    if exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        return SimpleSpanProcessor(ConsoleSpanExporter())
    return None


INSTRUMENTATION_SCOPE = "switchboard"
"""Every span's scope: the same code makes them in every service; the resource's ``service.name`` says which."""


@functools.cache
def tracer() -> Tracer:
    """The installed provider's tracer; ask for it where it is used (a module global would keep a proxy)."""
    return trace.get_tracer(INSTRUMENTATION_SCOPE)


@contextmanager
def span(
    name: str,
    *,
    parent: Context | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[Span]:
    """A span under ``parent`` (default: the current span), made current for the block.

    Under a parent that is not sampled no span is made at all: the parent's context becomes current instead (its
    trace id reaches the logs and the next hop, as a span of ours would, and nothing is recorded either way). That
    is the common case with export off, and it saves the id generation and bookkeeping of a span per hop.
    """
    parent_context = trace.get_current_span(parent).get_span_context()
    if parent_context.is_valid and not parent_context.trace_flags.sampled:
        token = attach(parent) if parent is not None else None
        try:
            yield trace.get_current_span()
        finally:
            if token is not None:
                detach(token)
        return
    with tracer().start_as_current_span(name, context=parent, kind=kind, attributes=attributes) as made:
        yield made


def trace_headers() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span, to send with a message; empty outside a trace."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str] | None) -> Context | None:
    """The remote parent named by ``headers`` (a NATS message's or HTTP request's), or None to start a trace."""
    if not headers or "traceparent" not in headers:
        return None
    return _PROPAGATOR.extract(headers)


@contextmanager
def continued(traceparent: str | None) -> Iterator[None]:
    """Make the span ``traceparent`` names current for a block (its lines carry its trace), without a span of ours."""
    context = context_from_headers({"traceparent": traceparent} if traceparent else None)
    if context is None:
        yield
        return
    token = attach(context)
    try:
        yield
    finally:
        detach(token)


def remote_span_context(headers: Mapping[str, str] | None) -> SpanContext | None:
    """The span a message's ``traceparent`` names (for links from a span that handles a batch), or None."""
    context = context_from_headers(headers)
    if context is None:
        return None
    span_context = trace.get_current_span(context).get_span_context()
    return span_context if span_context.is_valid else None


def current_trace_ids(span: Span | None = None) -> tuple[str, str] | None:
    """(trace id, span id) in hex of ``span`` (default: the current one), or None outside a trace."""
    return hex_ids((span or trace.get_current_span()).get_span_context())


def hex_ids(context: SpanContext) -> tuple[str, str] | None:
    """(trace id, span id) as logs and trace UIs spell them, or None for an invalid context."""
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
