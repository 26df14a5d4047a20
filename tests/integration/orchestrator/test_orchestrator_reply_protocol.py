"""Reply protocol 2 (what gateways ask for): no ``accepted`` when the answer comes at once, no ``end`` after it."""

from __future__ import annotations

import nats.errors
import pytest

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.orchestrator_harness import Gateway, Reply, message_body
from switchboard.common.events import ACCEPT_WINDOW_SECONDS

pytestmark = pytest.mark.usefixtures("fake_anthropic")

_QUIET = ACCEPT_WINDOW_SECONDS * 6
"""Long enough for a late ``accepted`` or a stray ``end`` to arrive if the orchestrator were to send one."""


async def nothing_more(reply: Reply) -> None:
    with pytest.raises(nats.errors.TimeoutError):
        await reply.subscription.next_msg(timeout=_QUIET)


async def test_a_fast_answer_is_the_only_frame(gateway: Gateway) -> None:
    reply = await gateway.open(gateway.request(message_body("hello"), reply_protocol=2))
    await reply.finish()
    assert reply.kinds() == ["body"]
    assert reply.frames[0].seq == 0
    assert reply.frames[0].status == 200
    await nothing_more(reply)


async def test_a_slow_answer_is_accepted_within_the_window(gateway: Gateway) -> None:
    reply = await gateway.open(gateway.request(message_body("[[fake:delay=0.4]] slow"), reply_protocol=2))
    first = await reply.next(timeout=ACCEPT_WINDOW_SECONDS * 10)
    assert first.kind == "accepted"
    await reply.finish()
    assert reply.kinds() == ["accepted", "body"]
    await nothing_more(reply)


async def test_a_stream_opens_with_its_head_and_still_ends_with_end(gateway: Gateway) -> None:
    body = message_body("[[fake:words=5]] streamed", stream=True)
    reply = await gateway.call(gateway.request(body, stream=True, reply_protocol=2))
    kinds = reply.kinds()
    assert kinds[0] == "response_head"
    assert set(kinds[1:-1]) == {"sse"}
    assert kinds[-1] == "end"
    assert "message_stop" in reply.data("sse")


async def test_an_error_is_the_only_frame(gateway: Gateway) -> None:
    reply = await gateway.call(gateway.request(message_body("hi", model="no-such-model"), model="no-such-model",
                                               reply_protocol=2))  # fmt: skip
    assert reply.kinds() == ["error"]
    assert reply.only("error").status == 404
    await nothing_more(reply)


async def test_an_upstream_error_is_the_only_frame(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    reply = await gateway.call(gateway.request(message_body("[[fake:status=429]] busy"), reply_protocol=2))
    assert reply.kinds() == ["error"]
    assert reply.only("error").status == 429
    await nothing_more(reply)


async def test_protocol_1_keeps_accepted_and_end(gateway: Gateway) -> None:
    reply = await gateway.call(gateway.request(message_body("hello")))
    assert reply.kinds() == ["accepted", "body", "end"]
