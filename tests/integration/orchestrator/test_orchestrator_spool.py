"""A completion the usage stream could not take is spooled on disk and reaches the stream exactly once later."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.orchestrator_harness import Gateway, Launch, message_body, poll_until
from switchboard.cli.embedded_nats import EmbeddedNats
from switchboard.common.subjects import Subjects
from switchboard.orchestrator.usage_stream import UsageStream


async def stored(bus: Client, subjects: Subjects) -> int:
    return (await bus.jetstream().stream_info(subjects.usage_stream)).state.messages


async def test_spooled_while_the_stream_is_gone_then_published_once(
    gateway: Gateway, bus: Client, subjects: Subjects, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    await bus.jetstream().delete_stream(subjects.usage_stream)
    request = gateway.request(message_body("[[fake:words=5]] hello", stream=True), stream=True, user_id="u-spool")
    reply = await gateway.call(request)
    assert reply.kinds()[-2:] == ["sse", "end"]  # the client got its answer whatever happened to the record

    await poll_until(lambda: (spool / f"completion-{request.request_id}.json").exists(), timeout=5.0)
    await UsageStream(bus.jetstream(), subjects).ensure()  # JetStream takes events again
    completion, headers = await gateway.completion("u-spool", timeout=10.0)
    assert headers["Nats-Msg-Id"] == f"completion-{request.request_id}"
    assert completion.output_tokens == 5
    await poll_until(lambda: not any(spool.iterdir()), timeout=2.0)  # deleted once acked
    assert await stored(bus, subjects) == 1


async def test_the_next_start_publishes_what_a_stopped_replica_spooled(
    launch: Launch, bus: Client, subjects: Subjects, tmp_path: Path
) -> None:
    first = await launch()
    gateway = Gateway(bus, subjects)
    await bus.jetstream().delete_stream(subjects.usage_stream)
    request = gateway.request(message_body("left behind"), user_id="u-restart")
    await gateway.call(request)
    spooled = tmp_path / "spool" / f"completion-{request.request_id}.json"
    await poll_until(spooled.exists, timeout=5.0)
    await first.stop(grace=1.0)
    assert spooled.exists()  # a stopping replica keeps what it could not publish

    await launch()  # creates the stream again and drains the spool it finds
    completion, _ = await gateway.completion("u-restart", timeout=10.0)
    assert completion.request_id == request.request_id
    await poll_until(lambda: not spooled.exists(), timeout=2.0)
    assert await stored(bus, subjects) == 1


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A NATS server of this test's own, to stop and start again on the same port and store."""
    server = EmbeddedNats(store_dir=tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.mark.timeout(90)
async def test_nats_away_while_recording_then_back(
    launch: Launch, private_nats: EmbeddedNats, subjects: Subjects, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    await launch(NATS_URL=private_nats.url)
    bus = await nats.connect(private_nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    try:
        gateway = Gateway(bus, subjects)
        marker = "MARKER-nats-away"
        reply = await gateway.open(gateway.request(message_body(f"[[fake:delay=1]] {marker}"), user_id="u-away"))
        await reply.until("accepted")
        await poll_until(lambda: bool(fake_anthropic.requests_with_marker(marker)), timeout=2.0)
        private_nats.stop()  # the answer comes back to a replica that cannot reach the bus

        spool = tmp_path / "spool"
        await poll_until(lambda: spool.is_dir() and any(spool.glob("*.json")), timeout=30.0, interval=0.1)
        private_nats.start()
        completion, _ = await gateway.completion("u-away", timeout=30.0)
        assert completion.request_id == reply.request.request_id
        await poll_until(lambda: not any(spool.glob("*.json")), timeout=30.0, interval=0.1)
        # Attempts buffered during the outage and the spool replay share one Nats-Msg-Id: one record.
        assert await stored(bus, subjects) == 1
    finally:
        await bus.close()
