"""Failures reach the gateway as Anthropic error bodies with the right status, before or during a stream."""

from __future__ import annotations

import json
import time

from nats.aio.client import Client

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.orchestrator_harness import Gateway, Launch, message_body
from switchboard.common.subjects import Subjects


def error_of(data: str) -> tuple[str, str, str]:
    body = json.loads(data)
    assert body["type"] == "error"
    return body["error"]["type"], body["error"]["message"], body["request_id"]


async def test_upstream_429_passes_through_with_our_request_id(gateway: Gateway) -> None:
    request = gateway.request(message_body("[[fake:status=429]] x", stream=True), stream=True)
    reply = await gateway.call(request)

    assert reply.kinds() == ["accepted", "error", "end"]
    frame = reply.only("error")
    assert frame.status == 429
    assert frame.headers == {"retry-after": "1"}
    assert error_of(frame.data) == (
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
        request.request_id,
    )


async def test_unknown_model_without_catch_all_is_404(gateway: Gateway) -> None:
    reply = await gateway.call(gateway.request(message_body("hi", model="gpt-4o"), model="gpt-4o"))

    assert reply.kinds() == ["accepted", "error", "end"]
    assert reply.only("error").status == 404
    error_type, message, _ = error_of(reply.only("error").data)
    assert error_type == "not_found_error"
    assert "gpt-4o" in message


async def test_unreachable_provider_is_502_without_its_url(gateway: Gateway) -> None:
    model = "unreachable-model"
    reply = await gateway.call(gateway.request(message_body("hi", model=model), model=model))

    frame = reply.only("error")
    assert frame.status == 502
    error_type, message, _ = error_of(frame.data)
    assert (error_type, message) == ("api_error", "upstream provider unreachable: unreachable")
    assert "127.0.0.1" not in frame.data


async def test_slow_upstream_is_504(launch: Launch, bus: Client, subjects: Subjects) -> None:
    await launch(SWITCHBOARD_UPSTREAM_READ_TIMEOUT=0.5)
    gateway = Gateway(bus, subjects)
    reply = await gateway.call(gateway.request(message_body("[[fake:delay=1.5]] slow")))

    assert reply.kinds() == ["accepted", "error", "end"]
    assert reply.only("error").status == 504
    error_type, message, _ = error_of(reply.only("error").data)
    assert (error_type, message) == ("timeout_error", "upstream provider anthropic timed out")


async def test_read_timeout_mid_stream_gives_an_error_frame(launch: Launch, bus: Client, subjects: Subjects) -> None:
    await launch(SWITCHBOARD_UPSTREAM_READ_TIMEOUT=0.5)
    gateway = Gateway(bus, subjects)
    text = "[[fake:words=6]] [[fake:stall_after=2,3]] stall"
    reply = await gateway.call(gateway.request(message_body(text, stream=True), stream=True))

    assert reply.kinds()[:3] == ["accepted", "response_head", "sse"]
    assert reply.kinds()[-2:] == ["error", "end"]
    assert reply.only("error").status == 504
    assert error_of(reply.only("error").data)[0] == "timeout_error"


async def test_heartbeats_while_waiting_for_the_first_byte(gateway: Gateway) -> None:
    started = time.monotonic()
    reply = await gateway.call(gateway.request(message_body("[[fake:delay=2.5]] wait", stream=True), stream=True))

    kinds = reply.kinds(heartbeats=True)
    assert kinds[0] == "accepted"
    assert kinds[1:3] == ["heartbeat", "heartbeat"]
    assert kinds.index("response_head") >= 3
    assert time.monotonic() - started >= 2.5


async def test_heartbeats_during_a_silent_gap_mid_stream(gateway: Gateway) -> None:
    text = "[[fake:words=6]] [[fake:stall_after=3,2.2]] gap"
    reply = await gateway.call(gateway.request(message_body(text, stream=True), stream=True))

    kinds = reply.kinds(heartbeats=True)
    first_sse = kinds.index("sse")
    assert kinds.count("heartbeat") >= 2
    assert kinds.index("heartbeat") > first_sse
    assert kinds[-1] == "end"


async def test_dropped_connection_mid_stream_gives_an_error_frame(gateway: Gateway) -> None:
    reply = await gateway.call(
        gateway.request(message_body("[[fake:words=8]] [[fake:drop_after=3]] drop", stream=True), stream=True)
    )

    kinds = reply.kinds()
    assert kinds[:3] == ["accepted", "response_head", "sse"]
    assert kinds[-2:] == ["error", "end"]
    assert "message_stop" not in reply.data("sse")
    assert reply.only("error").status == 502
    error_type, message, _ = error_of(reply.only("error").data)
    assert error_type == "api_error"
    assert "anthropic" in message


async def test_upstream_error_event_is_forwarded_as_sse(gateway: Gateway) -> None:
    reply = await gateway.call(
        gateway.request(message_body("[[fake:words=5]] [[fake:midstream_error=2]] e", stream=True), stream=True)
    )

    assert "error" not in reply.kinds()
    assert "event: error\ndata: " in reply.data("sse")
    completion, _ = await gateway.completion("user-1")
    assert (completion.status, completion.error_type) == ("failed", "overloaded_error")


async def test_count_tokens_falls_back_to_an_estimate_without_the_endpoint(
    launch: Launch, bus: Client, fake_anthropic: FakeAnthropic, subjects: Subjects
) -> None:
    routes = {
        "providers": {"old": {"type": "anthropic", "base_url": f"{fake_anthropic.url}/no-such-prefix"}},
        "model_mapping": {"*": "old"},
    }
    await launch(routes)
    gateway = Gateway(bus, subjects)
    body = json.dumps({"model": "claude-x", "messages": [{"role": "user", "content": "count me " * 50}]})
    reply = await gateway.call(gateway.request(body, model="claude-x", endpoint="count_tokens"))

    frame = reply.only("body")
    assert frame.status == 200
    assert json.loads(frame.data)["input_tokens"] > 50
