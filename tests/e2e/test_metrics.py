"""Every service's Prometheus metrics after real traffic: counters move by exactly the requests sent."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from e2e.sse import SseEvent, read_events
from support.connectors import NOTES_SERVER
from support.mcp_agents import connector
from support.processes import wait_until
from support.stack import Stack
from switchboard.api_gateway.keys.admin import create_api_key
from switchboard.api_gateway.settings import GatewaySettings

HEADERS = {"anthropic-version": "2023-06-01"}
ROUTE = "/v1/messages"
MODEL = "claude-opus-5"


class Scrape:
    """One scrape of a ``/metrics`` endpoint, parsed with prometheus_client's own parser."""

    def __init__(self, url: str) -> None:
        response = httpx.get(url, timeout=5)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


Expected = dict[tuple[str, frozenset[tuple[str, str]]], float]


def expect(name: str, delta: float, **labels: str) -> tuple[tuple[str, frozenset[tuple[str, str]]], float]:
    return (name, frozenset(labels.items())), delta


def settled(url: str, before: Scrape, expected: Expected, timeout: float = 10.0) -> Scrape:
    """Scrape until every expected delta is reached (a count lands just after the response), then return it."""
    deadline = time.monotonic() + timeout
    while True:
        after = Scrape(url)
        reached = all(
            after.samples.get(key, 0.0) - before.samples.get(key, 0.0) >= delta for key, delta in expected.items()
        )
        if reached or time.monotonic() > deadline:
            return after
        time.sleep(0.05)


def assert_deltas(before: Scrape, after: Scrape, expected: Expected) -> None:
    actual = {key: after.samples.get(key, 0.0) - before.samples.get(key, 0.0) for key in expected}
    assert actual == expected


def post(stack: Stack, body: dict[str, object], key: str | None = None) -> httpx.Response:
    headers = {**HEADERS, "x-api-key": key or stack.api_key}
    return httpx.post(f"{stack.base_url}{ROUTE}", json=body, headers=headers, timeout=30)


def stream(stack: Stack, prompt: str) -> list[SseEvent]:
    body = {"model": MODEL, "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    headers = {**HEADERS, "x-api-key": stack.api_key}
    with httpx.stream("POST", f"{stack.base_url}{ROUTE}", json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        return list(read_events(response))


def orchestrator_url(stack: Stack, path: str, index: int = 0) -> str:
    return f"http://127.0.0.1:{stack.orchestrator_ops_ports[index]}{path}"


def test_requests_errors_and_first_tokens_are_counted_by_gateway_and_orchestrator(stack: Stack) -> None:
    gateway, orchestrator = f"{stack.base_url}/metrics", orchestrator_url(stack, "/metrics")
    gateway_before, orchestrator_before = Scrape(gateway), Scrape(orchestrator)
    message = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    assert post(stack, message).status_code == 200
    events = stream(stack, "[[fake:words=5]]")
    assert [event.name for event in events].count("content_block_delta") == 5
    unknown_model = f"no-such-model-{secrets.token_hex(4)}"
    not_found = post(stack, {**message, "model": unknown_model})
    assert not_found.status_code == 404 and not_found.json()["error"]["type"] == "not_found_error"

    gateway_expected = dict([
        expect("switchboard_gateway_requests_total", 2, route=ROUTE, model=MODEL, status="200"),
        expect("switchboard_gateway_requests_total", 1, route=ROUTE, model="other", status="404"),
        expect("switchboard_gateway_errors_total", 1, route=ROUTE, error_type="not_found_error"),
        expect("switchboard_gateway_request_duration_seconds_count", 2, route=ROUTE, model=MODEL),
        expect("switchboard_gateway_time_to_first_token_seconds_count", 1, route=ROUTE, model=MODEL),
    ])  # fmt: skip
    gateway_after = settled(gateway, gateway_before, gateway_expected)
    assert_deltas(gateway_before, gateway_after, gateway_expected)
    assert gateway_after.value("switchboard_gateway_inflight_streams") == 0
    assert unknown_model not in str(gateway_after.samples), "an unrouted model never becomes a label"

    orchestrator_expected = dict([
        expect("switchboard_orchestrator_requests_total", 2, provider="anthropic", model=MODEL, outcome="succeeded"),
        expect("switchboard_orchestrator_requests_total", 1, provider="", model="other", outcome="failed"),
        expect("switchboard_orchestrator_upstream_duration_seconds_count", 2, provider="anthropic"),
    ])  # fmt: skip
    orchestrator_after = settled(orchestrator, orchestrator_before, orchestrator_expected)
    assert_deltas(orchestrator_before, orchestrator_after, orchestrator_expected)
    assert orchestrator_after.value("switchboard_orchestrator_inflight_requests") == 0
    for scrape, service in ((gateway_after, "api-gateway"), (orchestrator_after, "orchestrator")):
        assert scrape.value("switchboard_nats_rtt_seconds", service=service) > 0
        assert "process_cpu_seconds_total" in scrape.names()


def test_an_error_event_mid_stream_is_counted_by_its_type(stack: Stack) -> None:
    gateway = f"{stack.base_url}/metrics"
    before = Scrape(gateway)
    events = stream(stack, "[[fake:words=6]] [[fake:midstream_error=2]]")
    (error,) = [event for event in events if event.name == "error"]
    expected = dict([
        expect("switchboard_gateway_errors_total", 1, route=ROUTE, error_type=error.data["error"]["type"]),
        expect("switchboard_gateway_requests_total", 1, route=ROUTE, model=MODEL, status="200"),
        expect("switchboard_gateway_time_to_first_token_seconds_count", 1, route=ROUTE, model=MODEL),
    ])  # fmt: skip
    assert_deltas(before, settled(gateway, before, expected), expected)


def test_a_rate_limited_request_is_counted_by_tier(stack: Stack) -> None:
    settings = GatewaySettings.model_validate(stack.env())
    key = asyncio.run(create_api_key(settings, user_id=f"metrics-{secrets.token_hex(4)}", tier="free")).secret
    gateway = f"{stack.base_url}/metrics"
    before = Scrape(gateway)
    message = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    statuses = [post(stack, message, key).status_code for _ in range(11)]  # the free tier allows 10 a minute
    assert statuses == [200] * 10 + [429]
    expected = dict([
        expect("switchboard_gateway_rate_limited_total", 1, tier="free"),
        expect("switchboard_gateway_requests_total", 1, route=ROUTE, model="", status="429"),
        expect("switchboard_gateway_errors_total", 1, route=ROUTE, error_type="rate_limit_error"),
    ])  # fmt: skip
    assert_deltas(before, settled(gateway, before, expected), expected)


def test_the_metrics_endpoint_is_not_audited_and_needs_no_key(stack: Stack) -> None:
    Scrape(f"{stack.base_url}/metrics")
    entries = httpx.get(
        f"{stack.base_url}/api/v1/audit", params={"endpoint": "/metrics"}, headers={"x-api-key": stack.admin_key}
    )
    assert entries.status_code == 200
    assert "/metrics" not in entries.text


def test_tool_calls_are_counted_by_the_orchestrator_and_the_tool_broker(mcp_stack: Stack) -> None:
    notes = connector(mcp_stack, "metricnotes", NOTES_SERVER)
    try:
        notes.wait_registered()
        broker, orchestrator = (
            f"http://127.0.0.1:{mcp_stack.tool_broker_port}/metrics",
            orchestrator_url(mcp_stack, "/metrics"),
        )
        broker_before, orchestrator_before = Scrape(broker), Scrape(orchestrator)
        assert broker_before.value("switchboard_tool_broker_connectors", transport="websocket") >= 1
        prompt = '[[fake:agent_calls=mcp__metricnotes__read_note]] [[fake:tool_input={"name": "groceries"}]]'
        body = {"model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": prompt}]}
        headers = {**HEADERS, "x-api-key": mcp_stack.api_key, "x-switchboard-agent": "default"}
        response = httpx.post(f"{mcp_stack.base_url}{ROUTE}", json=body, headers=headers, timeout=30)
        assert response.status_code == 200 and "milk, eggs" in response.text
    finally:
        notes.stop()
    for url, before, service in (
        (broker, broker_before, "tool-broker"),
        (orchestrator, orchestrator_before, "orchestrator"),
    ):
        expected = dict([
            expect("switchboard_tool_calls_total", 1, service=service, outcome="success"),
            expect("switchboard_tool_calls_total", 0, service=service, outcome="error"),
            expect("switchboard_tool_call_duration_seconds_count", 1, service=service),
        ])  # fmt: skip
        assert_deltas(before, settled(url, before, expected), expected)


def test_orchestrator_readiness_flips_to_503_while_it_drains(private_stack: Stack) -> None:
    private_stack.start(orchestrators=1)
    ready, live = orchestrator_url(private_stack, "/readyz"), orchestrator_url(private_stack, "/livez")
    assert httpx.get(ready).status_code == 200 and httpx.get(live).status_code == 200
    streamed: list[list[SseEvent]] = []
    inflight = _in_background(lambda: streamed.append(stream(private_stack, "[[fake:words=4]] [[fake:word_delay=1]]")))
    metrics = orchestrator_url(private_stack, "/metrics")
    wait_until(lambda: Scrape(metrics).value("switchboard_orchestrator_inflight_requests") == 1,
               timeout=10, what="the request in flight")  # fmt: skip
    gateway = f"{private_stack.base_url}/metrics"
    wait_until(lambda: Scrape(gateway).value("switchboard_gateway_inflight_streams") == 1,
               timeout=10, what="the gateway's stream in flight")  # fmt: skip
    orchestrator = private_stack.orchestrators[0].process
    assert orchestrator is not None
    orchestrator.terminate()  # SIGTERM: it drains the stream in flight before exiting
    wait_until(lambda: httpx.get(ready).status_code == 503, timeout=5, what="not ready while draining")
    assert httpx.get(live).status_code == 200
    inflight.join(timeout=20)
    assert orchestrator.wait(timeout=20) == 0
    (events,) = streamed
    assert [event.name for event in events].count("content_block_delta") == 4, "the drained stream finished"


def test_metering_serves_its_ops_endpoint_once_consuming(private_stack: Stack) -> None:
    private_stack.start(orchestrators=1)  # the orchestrator creates the usage stream metering binds to
    private_stack.add_metering()
    base = f"http://127.0.0.1:{private_stack.metering_ops_ports[0]}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout=20, what="metering ready")
    assert httpx.get(f"{base}/livez").status_code == 200
    scrape = Scrape(f"{base}/metrics")
    assert scrape.value("switchboard_nats_rtt_seconds", service="metering") > 0
    assert {"switchboard_metering_pending_events", "switchboard_metering_dead_letters"} <= scrape.names()


def _in_background(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread
