"""A cancel on the bus stops the request within a second and closes the upstream HTTP stream."""

from __future__ import annotations

import time

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.orchestrator_harness import Gateway, message_body, poll_until


async def wait_for_disconnect(fake: FakeAnthropic, marker: str, timeout: float) -> float:
    await poll_until(lambda: fake.disconnected(marker), timeout=timeout)
    at = fake.disconnected_at(marker)
    assert at is not None
    return at


async def test_cancel_mid_stream_closes_the_upstream(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    marker = "MARKER-cancel-stream"
    text = f"[[fake:words=200]] [[fake:word_delay=0.05]] {marker}"
    reply = await gateway.open(gateway.request(message_body(text, stream=True), stream=True, user_id="u-cancel"))
    await reply.until("sse")

    cancelled_at = time.monotonic()
    await gateway.cancel(reply.request.request_id)
    disconnected_at = await wait_for_disconnect(fake_anthropic, marker, timeout=1.0)
    await reply.finish(timeout=2.0)

    assert disconnected_at - cancelled_at < 1.0
    assert reply.kinds()[-1] == "end"
    assert "error" not in reply.kinds()  # nobody is listening for one
    completion, _ = await gateway.completion("u-cancel")
    assert (completion.status, completion.http_status) == ("cancelled", 499)
    assert completion.input_tokens > 0  # what message_start reported is still recorded


async def test_cancel_before_the_first_byte(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    marker = "MARKER-cancel-wait"
    reply = await gateway.open(gateway.request(message_body(f"[[fake:delay=5]] {marker}", stream=True), stream=True))
    await reply.until("accepted")
    await poll_until(lambda: bool(fake_anthropic.requests_with_marker(marker)), timeout=2.0)

    cancelled_at = time.monotonic()
    await gateway.cancel(reply.request.request_id)
    assert await wait_for_disconnect(fake_anthropic, marker, timeout=1.0) - cancelled_at < 1.0
    await reply.finish(timeout=2.0)
    assert reply.kinds() == ["accepted", "end"]


async def test_cancel_for_another_request_is_ignored(gateway: Gateway) -> None:
    reply = await gateway.open(gateway.request(message_body("[[fake:delay=0.3]] other", stream=True), stream=True))
    await gateway.cancel("req_somebody_else")
    await reply.finish()
    assert reply.kinds()[-2:] == ["sse", "end"]
