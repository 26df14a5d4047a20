"""Several replicas share the durable consumer; a replica killed mid-batch loses and duplicates nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.lago import FakeLago
from support.metering import MeteringHarness, make_completion


@pytest.fixture
def lago() -> Iterator[FakeLago]:
    with FakeLago() as fake:
        yield fake


async def test_two_replicas_bill_each_event_once(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago, SWITCHBOARD_LAGO_BATCH_SIZE="10") as bus:
        bus.start()
        bus.start()
        ids = [f"req_{i}" for i in range(300)]
        await bus.publish(*[make_completion(i) for i in ids])
        await bus.eventually(lambda: len(set(lago.transaction_ids())) == len(ids), "all billed", timeout=40)
        await bus.settled()
        assert Counter(lago.transaction_ids()) == Counter(ids)
        assert (await bus.usage(None)).totals.requests == 300


async def test_killed_mid_batch_then_restarted(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago, SWITCHBOARD_LAGO_TIMEOUT="20") as bus:
        lago.delay_next(1, 30.0)  # Lago stores the batches but answers too late: the kill lands before the ack
        first = bus.start()
        ids = [f"req_{i}" for i in range(50)]
        await bus.publish(*[make_completion(i) for i in ids])
        await bus.eventually(lambda: len(lago.transaction_ids()) >= 1, "a batch in Lago's hands")
        first.kill()
        bus.start()
        # Redelivery waits for the killed replica's ack_wait (30 s) at most; the batch stored twice dedupes.
        await bus.eventually(lambda: set(lago.transaction_ids()) == set(ids), "all billed after restart", timeout=50)
        await bus.settled(timeout=45)  # the killed replica's batch came back and deduped against Lago
        assert Counter(lago.transaction_ids()) == Counter(ids)


@pytest.mark.postgres
async def test_ledger_on_postgresql(tmp_path: Path, nats_url: str, lago: FakeLago, postgres_url: str) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago, METERING_DATABASE_URL=postgres_url) as bus:
        bus.start()
        bus.start()  # two replicas migrate the same database at once
        await bus.publish(*[make_completion(f"req_{i}", input_tokens=i) for i in range(20)])
        await bus.publish(make_completion("req_3", input_tokens=3), msg_id="again")
        await bus.eventually(lambda: len(lago.transaction_ids()) == 20, "all billed")
        await bus.settled()
        report = await bus.usage("alice")
        assert report.totals.requests == 20
        assert report.totals.input_tokens == lago.total("input_tokens") == sum(range(20))
