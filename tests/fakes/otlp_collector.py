"""A fake OpenTelemetry collector: OTLP/HTTP traces (``POST /v1/traces``, protobuf, optionally gzip) on 127.0.0.1.

Faithful where exporters depend on it: the request body is an ``ExportTraceServiceRequest``, the answer a
(protobuf) ``ExportTraceServiceResponse``, an unsupported content type is 415, and an injected 503 makes the
exporter retry. Tests read back every span with the ``service.name`` of the process that sent it.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from .loopback_server import Responder
from .recording_server import RecordedRequest, RecordingServer

__all__ = ["CollectedSpan", "FakeCollector"]

_PROTOBUF = "application/x-protobuf"
_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True)
class CollectedSpan:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    """Empty for a root span."""
    attributes: dict[str, object]
    links: tuple[tuple[str, str], ...]
    """(trace id, span id) of each linked span."""


class FakeCollector(RecordingServer):
    """Use as a context manager; ``url`` is ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``spans()`` what arrived."""

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[CollectedSpan] = []
        self._failures_left = 0
        self._state = threading.Lock()

    def fail_next(self, count: int) -> None:
        """Answer the next ``count`` exports with 503 (retryable for OTLP exporters)."""
        with self._state:
            self._failures_left = count

    def spans(self, trace_id: str | None = None) -> list[CollectedSpan]:
        with self._state:
            return [span for span in self._spans if trace_id is None or span.trace_id == trace_id]

    def wait_for(self, trace_id: str, expected: Mapping[str, int], timeout: float = 10.0) -> list[CollectedSpan]:
        """The trace's spans once at least ``expected[name]`` spans of each name arrived (or ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans(trace_id)
            names = Counter(span.name for span in spans)
            if all(names[name] >= count for name, count in expected.items()) or time.monotonic() > deadline:
                return spans
            time.sleep(0.05)

    async def _serve(self, request: RecordedRequest, responder: Responder) -> None:
        if request.method != "POST" or request.path != "/v1/traces":
            responder.send(404, {"content-type": "text/plain"}, b"not found")
            return
        if request.headers.get("content-type") != _PROTOBUF:
            responder.send(415, {"content-type": "text/plain"}, b"unsupported content type")
            return
        with self._state:
            failing = self._failures_left > 0
            self._failures_left -= failing
        if failing:
            responder.send(503, {"content-type": "text/plain"}, b"unavailable")
            return
        body = gzip.decompress(request.body) if request.headers.get("content-encoding") == "gzip" else request.body
        export = ExportTraceServiceRequest()
        try:
            export.ParseFromString(body)
        except DecodeError:
            responder.send(400, {"content-type": "text/plain"}, b"undecodable ExportTraceServiceRequest")
            return
        spans = list(_spans(export))
        with self._state:
            self._spans.extend(spans)
        responder.send(200, {"content-type": _PROTOBUF}, ExportTraceServiceResponse().SerializeToString())


def _spans(export: ExportTraceServiceRequest) -> list[CollectedSpan]:
    collected: list[CollectedSpan] = []
    for resource_spans in export.resource_spans:
        resource = {item.key: _value(item.value) for item in resource_spans.resource.attributes}
        service = str(resource.get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            collected.extend(_span(service, span) for span in scope_spans.spans)
    return collected


def _span(service: str, span: Span) -> CollectedSpan:
    return CollectedSpan(
        service=service,
        name=span.name,
        kind=_KINDS.get(span.kind, str(span.kind)),
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        attributes={item.key: _value(item.value) for item in span.attributes},
        links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links),
    )


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in ("string_value", "int_value", "double_value", "bool_value") else None
