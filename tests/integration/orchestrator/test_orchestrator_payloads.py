"""Payloads at the edges: bodies parked in the Object Store, answers bigger than one NATS message, the demo."""

from __future__ import annotations

import json

import pytest
from nats.aio.client import Client
from nats.js.errors import ObjectNotFoundError

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.orchestrator_harness import Gateway, message_body
from switchboard.common.events import StreamFrame


async def test_body_from_the_object_store(gateway: Gateway, bus: Client, fake_anthropic: FakeAnthropic) -> None:
    body = message_body("parked MARKER-parked " + "x" * 100_000)
    store = await bus.jetstream().create_object_store(gateway.subjects.body_bucket)
    await store.put("req-parked-body", body.encode())

    reply = await gateway.call(gateway.request("", body_object="req-parked-body"))

    assert reply.kinds() == ["accepted", "body", "end"]
    (upstream,) = fake_anthropic.requests_with_marker("MARKER-parked")
    assert upstream.body == body.encode()
    with pytest.raises(ObjectNotFoundError):
        await store.get("req-parked-body")  # deleted once read


async def test_missing_body_object_is_an_error(gateway: Gateway, bus: Client) -> None:
    await bus.jetstream().create_object_store(gateway.subjects.body_bucket)
    reply = await gateway.call(gateway.request("", body_object="never-stored"))
    assert reply.kinds() == ["accepted", "error", "end"]
    assert reply.only("error").status == 500


async def test_answer_larger_than_a_nats_message_is_split(gateway: Gateway, bus: Client) -> None:
    words = 1_200_000  # about 12 MB of JSON; the test server's max_payload is 8 MB
    reply = await gateway.call(gateway.request(message_body(f"[[fake:words={words}]] big")), timeout=60)

    bodies = [frame for frame in reply.frames if frame.kind == "body"]
    assert len(bodies) >= 2
    assert [frame.more for frame in bodies] == [True] * (len(bodies) - 1) + [False]
    assert all(len(frame.model_dump_json()) <= bus.max_payload for frame in bodies)
    message = json.loads("".join(frame.data for frame in bodies))
    assert message["content"][0]["text"].endswith(f"word{words}")


async def test_demo_model_streams_without_any_upstream(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    seen = len(fake_anthropic.requests)
    body = message_body("hello demo", model="demo", stream=True)
    reply = await gateway.call(gateway.request(body, model="demo", stream=True, user_id="u-demo"))

    assert reply.kinds()[:2] == ["accepted", "response_head"]
    sse = reply.data("sse")
    assert sse.startswith("event: message_start\n")
    assert sse.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert "You said: hello demo" in "".join(
        json.loads(line[6:])["delta"]["text"] for line in sse.splitlines() if '"text_delta"' in line
    )
    assert len(fake_anthropic.requests) == seen
    completion, _ = await gateway.completion("u-demo")
    assert (completion.provider, completion.upstream_model, completion.stop_reason) == ("demo", "demo", "end_turn")
    assert completion.input_tokens > 0
    assert completion.output_tokens > 1


async def test_demo_model_count_tokens_and_message(gateway: Gateway) -> None:
    count = await gateway.call(
        gateway.request(message_body("count", model="demo"), model="demo", endpoint="count_tokens")
    )
    assert json.loads(count.only("body").data)["input_tokens"] > 0
    message = await gateway.call(gateway.request(message_body("whole", model="demo"), model="demo"))
    frame: StreamFrame = message.only("body")
    assert json.loads(frame.data)["model"] == "demo"
