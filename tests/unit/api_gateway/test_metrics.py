"""The gateway's metrics on a tiny Starlette app: the model label cap, route templates, error types, TTFT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from switchboard.api_gateway.metrics import GatewayMetrics
from switchboard.api_gateway.metrics_middleware import MetricsMiddleware
from switchboard.common.metrics import OTHER


async def messages(request: Request) -> Response:
    request.state.model = request.query_params.get("model", "claude-test")
    status = int(request.query_params.get("status", "200"))
    if status == 200:
        return JSONResponse({"ok": True})
    error_type = request.query_params.get("type", "not_found_error")
    return JSONResponse({"type": "error", "error": {"type": error_type, "message": "x"}}, status_code=status)


async def stream(request: Request) -> Response:
    request.state.model = "claude-test"

    async def events() -> AsyncIterator[bytes]:
        yield b'event: message_start\ndata: {"type": "message_start"}\n\n'
        for _ in range(2):
            await asyncio.sleep(0.01)
            yield b'event: content_block_delta\ndata: {"type": "content_block_delta"}\n\n'
        yield b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "x"}}\n\n'

    return StreamingResponse(events(), media_type="text/event-stream; charset=utf-8")


async def crash(request: Request) -> Response:
    raise RuntimeError("boom")


@pytest.fixture
def metrics() -> GatewayMetrics:
    return GatewayMetrics(CollectorRegistry())


@pytest.fixture
async def client(metrics: GatewayMetrics) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[Route("/v1/things/{thing_id}", messages), Route("/v1/stream", stream), Route("/v1/crash", crash)],
        middleware=[Middleware(MetricsMiddleware, metrics=metrics)],
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def sample(metrics: GatewayMetrics, name: str, labels: dict[str, str]) -> float:
    for family in (metrics.requests, metrics.errors, metrics.duration, metrics.ttft, metrics.inflight_streams):
        for metric in family.collect():
            for found in metric.samples:
                if found.name == name and found.labels == labels:
                    return found.value
    return 0.0


async def test_requests_are_labelled_by_route_template_model_and_status(
    client: httpx.AsyncClient, metrics: GatewayMetrics
) -> None:
    await client.get("/v1/things/1")
    await client.get("/v1/things/2?model=nowhere&status=404")
    await client.get("/nothing/here")
    route = "/v1/things/{thing_id}"
    assert (
        sample(metrics, "switchboard_gateway_requests_total", {"route": route, "model": "claude-test", "status": "200"})
        == 1
    )
    assert sample(metrics, "switchboard_gateway_requests_total", {"route": route, "model": OTHER, "status": "404"}) == 1
    assert (
        sample(metrics, "switchboard_gateway_requests_total", {"route": "unmatched", "model": "", "status": "404"}) == 1
    )
    assert sample(metrics, "switchboard_gateway_errors_total", {"route": route, "error_type": "not_found_error"}) == 1
    assert (
        sample(
            metrics, "switchboard_gateway_time_to_first_token_seconds_count", {"route": route, "model": "claude-test"}
        )
        == 0
    )


async def test_an_error_type_anthropic_does_not_have_is_counted_by_status(
    client: httpx.AsyncClient, metrics: GatewayMetrics
) -> None:
    await client.get("/v1/things/1?status=503&type=made_up_error")
    await client.get("/v1/crash")
    route = "/v1/things/{thing_id}"
    assert sample(metrics, "switchboard_gateway_errors_total", {"route": route, "error_type": "api_error"}) == 1
    assert sample(metrics, "switchboard_gateway_errors_total", {"route": "/v1/crash", "error_type": "api_error"}) == 1
    assert (
        sample(metrics, "switchboard_gateway_requests_total", {"route": "/v1/crash", "model": "", "status": "500"}) == 1
    )


async def test_a_stream_observes_one_first_token_and_its_error_event(
    client: httpx.AsyncClient, metrics: GatewayMetrics
) -> None:
    response = await client.get("/v1/stream")
    assert b"content_block_delta" in response.content
    labels = {"route": "/v1/stream", "model": "claude-test"}
    assert sample(metrics, "switchboard_gateway_time_to_first_token_seconds_count", labels) == 1
    assert sample(metrics, "switchboard_gateway_request_duration_seconds_count", labels) == 1
    assert (
        sample(metrics, "switchboard_gateway_errors_total", {"route": "/v1/stream", "error_type": "overloaded_error"})
        == 1
    )
    assert sample(metrics, "switchboard_gateway_inflight_streams", {}) == 0
