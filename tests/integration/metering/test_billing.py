"""Metering as a real process between a real JetStream and the fake Lago: every completion billed exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.lago import FakeLago
from support.metering import MeteringHarness, make_completion
from switchboard.metering.dead_letters import replay_dead_letters


@pytest.fixture
def lago() -> Iterator[FakeLago]:
    with FakeLago() as fake:
        yield fake


def _once(lago: FakeLago, ids: list[str]) -> bool:
    counts = Counter(lago.transaction_ids())
    return all(counts[i] == 1 for i in ids) and set(counts) == set(ids)


async def test_each_completion_billed_once_and_ledger_agrees(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago) as bus:
        bus.start()
        completions = [make_completion(f"req_{i}", user_id="alice" if i % 2 else "bob") for i in range(30)]
        await bus.publish(*completions)
        await bus.publish(completions[0])  # the orchestrator's retried publish: JetStream drops it
        await bus.publish(completions[1], msg_id="completion-req_1:again")  # got past dedupe: Lago dedupes
        ids = [c.request_id for c in completions]
        await bus.eventually(lambda: set(lago.transaction_ids()) == set(ids), "all billed")
        status = await bus.settled()
        assert _once(lago, ids)
        assert (status.lag_seconds, status.dead_letters, status.lago_reachable) == (0.0, 0, True)
        alice = await bus.usage("alice")
        assert alice.totals.requests == 15
        assert alice.totals.input_tokens == lago.total("input_tokens", "alice") == 1500
        everyone = await bus.usage(None)
        assert everyone.totals.output_tokens == lago.total("output_tokens") == 210
        assert everyone.totals.tool_calls == lago.total("tool_calls") == 30
        assert [b.key for b in everyone.by_model] == ["claude-sonnet"]
        assert len(everyone.by_day) == 1


async def test_an_event_lago_already_has_is_acked(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago) as bus:
        lago.preload({"transaction_id": "req_old", "external_subscription_id": "alice", "code": "switchboard_usage"})
        bus.start()
        await bus.publish(make_completion("req_old"), make_completion("req_new"))
        await bus.eventually(lambda: "req_new" in lago.transaction_ids(), "new one billed")
        status = await bus.settled()
        assert sorted(lago.transaction_ids()) == ["req_new", "req_old"]
        assert status.dead_letters == 0


async def test_transient_failures_are_retried(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago) as bus:
        lago.fail_next(2)
        lago.rate_limit_next(1, reset_seconds=1)
        lago.delay_next(1, 2.0)  # beyond the 1 s client timeout; Lago stored the batch anyway
        lago.fail_next(1, status=502)
        bus.start()
        completions = [make_completion(f"req_{i}") for i in range(5)]
        await bus.publish(*completions)
        ids = [c.request_id for c in completions]
        await bus.eventually(lambda: set(lago.transaction_ids()) == set(ids), "billed after retries", timeout=40)
        await bus.settled(timeout=30)
        assert _once(lago, ids)
        assert "Lago answered 429" in bus.logs()


async def test_refused_completion_is_dead_lettered_then_replayed(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago) as bus:
        lago.refuse("req_bad", {"properties": ["invalid_value"]})
        bus.start()
        await bus.publish(make_completion("req_ok"), make_completion("req_bad"))
        await bus.publish_raw("alice", b"{not json")
        await bus.eventually(lambda: "req_ok" in lago.transaction_ids(), "good one billed")
        status = await bus.settled()
        assert status.dead_letters == 2
        assert lago.transaction_ids() == ["req_ok"]
        assert "dead-lettered (Lago 422)" in bus.logs() and "invalid_value" in bus.logs()
        assert "malformed usage message" in bus.logs()

        lago.accept_all()
        assert bus.nc is not None
        assert await replay_dead_letters(bus.nc, bus.subjects) == 1  # the malformed one stays
        await bus.eventually(lambda: "req_bad" in lago.transaction_ids(), "replayed one billed")
        status = await bus.settled()
        assert status.dead_letters == 1
        assert _once(lago, ["req_ok", "req_bad"])


async def test_status_while_lago_is_down(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago) as bus:
        lago.set_down("drop")
        bus.start()
        await bus.publish(*[make_completion(f"req_{i}") for i in range(3)])
        await bus.eventually(lambda: len(lago.requests) >= 2, "first attempts")
        status = await bus.status()
        assert status.pending == 3
        assert status.lago_reachable is False
        assert status.oldest_unbilled_at is not None and status.lag_seconds > 0
        lago.set_down(None)
        await bus.eventually(lambda: len(lago.transaction_ids()) == 3, "billed after the outage", timeout=40)
        status = await bus.settled(timeout=30)
        assert (status.pending, status.lag_seconds) == (0, 0.0)


async def test_without_lago_the_ledger_still_fills(tmp_path: Path, nats_url: str) -> None:
    async with MeteringHarness(nats_url, tmp_path, None) as bus:
        process = bus.start()
        await bus.publish(*[make_completion(f"req_{i}") for i in range(4)])
        await bus.settled()
        report = await bus.usage("alice")
        assert report.totals.requests == 4
        assert (await bus.status()).lago_reachable is None
        assert process.stop(timeout=10) == 0
        assert bus.logs().count("billing is off") == 1
