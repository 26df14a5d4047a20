"""Sustained billing throughput of one metering process: completions in JetStream -> events stored by a fake Lago.

Run: ``.venv/bin/python bench/metering_throughput.py [--events 20000] [--batch-size 100]``.
Starts NATS and one metering process (SQLite ledger) on loopback with the fake Lago, publishes ``--events``
completions to the usage stream first (so metering always has a backlog), then reports events/s from the first
to the last event Lago stored, and checks each was billed exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.lago import FakeLago
from support.metering import MeteringHarness, make_completion
from switchboard.cli.embedded_nats import EmbeddedNats


async def _run(nats_url: str, scratch: Path, lago: FakeLago, events: int, batch_size: int) -> None:
    async with MeteringHarness(nats_url, scratch, lago, SWITCHBOARD_LAGO_BATCH_SIZE=str(batch_size)) as bus:
        ids = [f"req_{i}" for i in range(events)]
        started = time.monotonic()
        await bus.publish(*[make_completion(rid, user_id=f"user{n % 50}") for n, rid in enumerate(ids)])
        print(f"published {events} completions in {time.monotonic() - started:.1f} s")
        bus.start()
        first: float | None = None
        while len(lago.transaction_ids()) < events:
            if first is None and lago.transaction_ids():
                first = time.monotonic()
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - (first or started)
        counts = Counter(lago.transaction_ids())
        assert counts == Counter(ids), "not exactly once"
        print(
            f"billed {events} events exactly once in {elapsed:.1f} s: {events / elapsed:.0f} events/s "
            f"({lago.batch_calls} batch calls)"
        )
        status = await bus.settled(timeout=60)
        print(f"metering status after: pending={status.pending} lag={status.lag_seconds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        bus = EmbeddedNats(store_dir=Path(scratch) / "nats")
        bus.start()
        try:
            with FakeLago() as lago:
                asyncio.run(_run(bus.url, Path(scratch), lago, args.events, args.batch_size))
        finally:
            bus.stop()


if __name__ == "__main__":
    main()
