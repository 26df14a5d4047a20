"""SIGTERM mid-batch: metering finishes the batch Lago holds, acknowledges it, leaves the rest queued, exits 0."""

from __future__ import annotations

import asyncio
import signal
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


async def test_sigterm_mid_batch_acks_what_was_billed_and_exits_0(
    tmp_path: Path, nats_url: str, lago: FakeLago
) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago, SWITCHBOARD_LAGO_BATCH_SIZE="10",
                               SWITCHBOARD_LAGO_TIMEOUT="10") as bus:  # fmt: skip
        ids = [f"req_{i}" for i in range(50)]
        await bus.publish(*[make_completion(i) for i in ids])
        lago.delay_next(1, 1.5)  # the first batch is in Lago's hands when SIGTERM arrives
        first = bus.start()
        await bus.eventually(lambda: lago.batch_calls >= 1, "a batch sent to Lago")
        assert first.process is not None
        first.process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.process.wait, 20) == 0, first.log()
        billed = set(lago.transaction_ids())
        assert billed and billed <= set(ids)  # the batches in hand (as many as were fetched) were finished

        assert bus.nc is not None
        consumer = await bus.nc.jetstream().consumer_info(bus.subjects.usage_stream, bus.subjects.usage_consumer)
        assert consumer.num_ack_pending == 0  # what it billed it acknowledged; nothing is left for a redelivery
        assert consumer.num_pending == len(ids) - len(billed)

        bus.start()
        await bus.eventually(lambda: set(lago.transaction_ids()) == set(ids), "all billed after the restart")
        await bus.settled()
        assert Counter(lago.transaction_ids()) == Counter(ids)
