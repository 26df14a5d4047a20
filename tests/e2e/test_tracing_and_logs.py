"""One request, one trace, one request id: through gateway, orchestrator, provider, tool-broker and metering.

The client's W3C ``traceparent`` is continued by every hop (HTTP in, NATS between the services, HTTP to the
provider), spans go to a fake OTLP collector, and every service's log is JSON lines, those about the request
carrying its id and trace id.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.anthropic_provider import FakeAnthropic
from fakes.otlp_collector import CollectedSpan, FakeCollector
from support.connectors import NOTES_SERVER, ConnectorProcess
from support.mcp_agents import MODEL, connector, mcp_routing_config
from support.processes import wait_until
from support.stack import Stack
from switchboard.cli.embedded_nats import EmbeddedNats

LOG_FIELDS = {"time", "level", "service", "logger", "message"}
SERVICES = ("api-gateway", "orchestrator", "tool-broker", "metering")


@pytest.fixture(scope="module")
def collector() -> Iterator[FakeCollector]:
    with FakeCollector() as fake:
        yield fake


@pytest.fixture(scope="module")
def traced_stack(
    tmp_path_factory: pytest.TempPathFactory,
    nats_server: EmbeddedNats,
    fake_anthropic: FakeAnthropic,
    collector: FakeCollector,
) -> Iterator[Stack]:
    """Every service exporting spans to the collector, logging at DEBUG; a notes connector on the broker."""
    stack = Stack(
        workdir=tmp_path_factory.mktemp("traced-stack"),
        nats_url=nats_server.url,
        fake=fake_anthropic,
        routing_config=mcp_routing_config(),
        extra_env={
            "SWITCHBOARD_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "SWITCHBOARD_LOG_LEVEL": "DEBUG",
            "SWITCHBOARD_ACCESS_LOG": "true",
        },
    )
    notes: ConnectorProcess | None = None
    try:
        stack.start(orchestrators=1)
        stack.add_tool_broker()
        stack.add_metering()
        notes = connector(stack, "notes", NOTES_SERVER)
        notes.wait_registered()
        yield stack
    finally:
        if notes is not None:
            notes.stop()
        stack.stop()


def traceparent() -> tuple[str, str, str]:
    """(header, trace id, span id) of a sampled client span."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def agent_request(stack: Stack, header: str, marker: str) -> str:
    """An agent request that calls the notes tool once; returns its request id.

    Plain HTTP rather than the SDK: the anthropic SDK sends a ``traceparent`` of its own call span whenever the
    process has an OpenTelemetry provider (which the test process may have), and this test must choose it.
    """
    content = f'[[fake:agent_calls=mcp__notes__add]] [[fake:tool_input={{"a": 1, "b": 2}}]] {marker}'
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        json={"model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": content}]},
        headers={**api_headers(stack), "traceparent": header, "x-switchboard-agent": "default"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["content"][-1]["type"] == "text"
    return response.headers["request-id"]


def api_headers(stack: Stack) -> dict[str, str]:
    return {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}


def one(spans: list[CollectedSpan], service: str, name: str) -> CollectedSpan:
    found = [span for span in spans if span.service == f"switchboard-{service}" and span.name == name]
    assert len(found) == 1, (service, name, [(s.service, s.name) for s in spans])
    return found[0]


def test_one_trace_runs_from_the_client_through_every_service(
    traced_stack: Stack, collector: FakeCollector, fake_anthropic: FakeAnthropic
) -> None:
    header, trace_id, client_span = traceparent()
    marker = f"trace-{secrets.token_hex(4)}"
    request_id = agent_request(traced_stack, header, marker)

    expected = {"POST /v1/messages": 1, "orchestrate": 1, "upstream anthropic": 2, "execute_tool add": 2}
    spans = collector.wait_for(trace_id, expected)
    gateway = one(spans, "api-gateway", "POST /v1/messages")
    assert gateway.kind == "server" and gateway.parent_span_id == client_span
    assert gateway.attributes["switchboard.request_id"] == request_id
    assert gateway.attributes["http.response.status_code"] == 200
    orchestrate = one(spans, "orchestrator", "orchestrate")
    assert orchestrate.parent_span_id == gateway.span_id and orchestrate.kind == "consumer"
    upstream = [s for s in spans if s.name == "upstream anthropic"]
    assert len(upstream) == 2, "the agent loop calls the model twice: before and after the tool"
    assert {s.parent_span_id for s in upstream} == {orchestrate.span_id}
    tool_call = one(spans, "orchestrator", "execute_tool add")
    broker = one(spans, "tool-broker", "execute_tool add")
    assert tool_call.parent_span_id == orchestrate.span_id
    assert broker.parent_span_id == tool_call.span_id and broker.kind == "consumer"

    # The provider saw our upstream spans as parents, never the client's own span.
    sent = [request.headers["traceparent"] for request in fake_anthropic.requests_with_marker(marker)]
    assert sorted(sent) == sorted(f"00-{trace_id}-{s.span_id}-01" for s in upstream)

    # Metering bills in batches: its span is linked to the request's trace rather than part of it.
    def billed() -> bool:
        return any(link[0] == trace_id for span in collector.spans() if span.name == "bill" for link in span.links)

    wait_until(billed, timeout=10, what="a metering span linked to the trace")


def test_every_line_of_every_service_is_json_and_the_requests_lines_carry_its_ids(traced_stack: Stack) -> None:
    header, trace_id, _ = traceparent()
    request_id = agent_request(traced_stack, header, f"logs-{secrets.token_hex(4)}")

    def about_the_request() -> dict[str, list[dict[str, Any]]]:
        lines = _json_lines(traced_stack.workdir / "logs")
        return {
            service: [line for line in lines.get(service, []) if line.get("request_id") == request_id]
            for service in SERVICES
        }

    wait_until(
        lambda: all(about_the_request().values()), timeout=10, what="a line about the request from every service"
    )
    for service, lines in about_the_request().items():
        assert {line["trace_id"] for line in lines} == {trace_id}, service
    gateway_lines = about_the_request()["api-gateway"]
    access = [line for line in gateway_lines if line["logger"] == "switchboard.api_gateway.access"]
    assert len(access) == 1
    assert access[0]["status"] == 200 and access[0]["path"] == "/v1/messages" and access[0]["model"] == MODEL


def _json_lines(logs: Path) -> dict[str, list[dict[str, Any]]]:
    """Every line of the services' logs, parsed (a line that is not a JSON log object fails the test)."""
    by_service: dict[str, list[dict[str, Any]]] = {}
    for path in logs.glob("*.log"):
        if path.name.startswith("connector-"):
            continue  # the CLI's own output, meant for a person
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            assert entry.keys() >= LOG_FIELDS, (path.name, line)
            by_service.setdefault(entry["service"], []).append(entry)
    return by_service


def test_without_an_exporter_the_trace_still_reaches_the_provider(stack: Stack, fake_anthropic: FakeAnthropic) -> None:
    header, trace_id, client_span = traceparent()
    marker = f"untraced-{secrets.token_hex(4)}"
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        json={"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": marker}]},
        headers={**api_headers(stack), "traceparent": header},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    (request,) = fake_anthropic.requests_with_marker(marker)
    version, sent_trace, parent, flags = request.headers["traceparent"].split("-")
    assert (version, sent_trace, flags) == ("00", trace_id, "01"), "the caller's sampled trace is continued"
    assert parent != client_span, "the provider's parent is the orchestrator's span, not the client's"
