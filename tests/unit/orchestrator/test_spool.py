"""The spool: atomic files named by event id, oldest first, kept until the stream acked them, across restarts."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import nats.errors
import pytest

from switchboard.orchestrator.spool import Spool
from switchboard.orchestrator.spool_drain import SpoolDrainer


def event(number: int) -> bytes:
    return json.dumps({"event_id": f"completion-req_{number}", "user_id": "u-1"}).encode()


class StreamStandIn:
    """Plays the usage stream: records what it acked, refuses while ``down``."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.acked: list[bytes] = []
        self.down = False
        self.spooled_while_publishing: list[bool] = []

    async def publish(self, payload: bytes) -> None:
        event_id = json.loads(payload)["event_id"]
        self.spooled_while_publishing.append(self.spool.path_for(event_id).exists())
        if self.down:
            raise nats.errors.TimeoutError
        self.acked.append(payload)


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def spool_three(spool: Spool) -> None:
    """Three events written out of id order, with modification times that say 3 is oldest, then 1, then 2."""
    for number, age in ((1, 20), (2, 10), (3, 30)):
        path = spool.write(f"completion-req_{number}", event(number))
        stamp = 1_700_000_000 - age
        os.utime(path, (stamp, stamp))


def test_write_is_atomic_and_named_by_the_event_id(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    path = spool.write("completion-req_1", event(1))
    assert path == tmp_path / "spool" / "completion-req_1.json"
    assert path.read_bytes() == event(1)
    assert names(tmp_path / "spool") == ["completion-req_1.json"]  # no temp file left
    spool.write("completion-req_1", event(1))  # the same event again: still one file
    assert spool.pending() == [path]


def test_unfinished_and_rejected_files_are_not_pending(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (tmp_path / "completion-req_9.json.123.tmp").write_bytes(b'{"event_id": "half')
    kept = spool.write("completion-req_1", event(1))
    aside = spool.set_aside(spool.write("completion-req_2", b"not json"))
    assert aside.name == "completion-req_2.json.rejected"
    assert spool.pending() == [kept]


def test_event_ids_cannot_escape_the_directory(tmp_path: Path) -> None:
    assert Spool(tmp_path).path_for("../../etc/passwd").parent == tmp_path


def test_a_missing_directory_is_an_empty_spool(tmp_path: Path) -> None:
    assert Spool(tmp_path / "never-made").pending() == []


async def test_drain_publishes_oldest_first_and_deletes_only_after_the_ack(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool_three(spool)
    stream = StreamStandIn(spool)
    assert await SpoolDrainer(stream, spool).drain()
    assert stream.acked == [event(3), event(1), event(2)]
    assert stream.spooled_while_publishing == [True, True, True]
    assert spool.pending() == []


async def test_a_failed_publish_keeps_that_event_and_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool_three(spool)
    stream = StreamStandIn(spool)
    stream.down = True
    assert not await SpoolDrainer(stream, spool).drain()
    assert len(stream.spooled_while_publishing) == 1  # stopped at the first failure
    assert len(spool.pending()) == 3

    stream.down = False
    restarted = Spool(tmp_path)  # a new replica on the same directory
    assert await SpoolDrainer(stream, restarted).drain()
    assert stream.acked == [event(3), event(1), event(2)]


async def test_a_file_that_is_no_event_is_set_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write("completion-req_0", b"{broken")
    spool.write("completion-req_1", event(1))

    class Strict(StreamStandIn):
        async def publish(self, payload: bytes) -> None:
            json.loads(payload)
            await super().publish(payload)

    stream = Strict(spool)
    assert await SpoolDrainer(stream, spool).drain()
    assert stream.acked == [event(1)]
    assert names(tmp_path) == ["completion-req_0.json.rejected"]


async def test_the_drainer_replays_on_start_and_after_an_outage(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write("completion-req_1", event(1))  # left by an earlier run
    stream = StreamStandIn(spool)
    drainer = SpoolDrainer(stream, spool, max_backoff=0.2)
    drainer.start()
    try:
        await wait_for(lambda: not spool.pending())
        assert stream.acked == [event(1)]

        stream.down = True
        await drainer.keep("completion-req_2", event(2))
        assert drainer.failing
        await asyncio.sleep(0.3)
        assert spool.pending() and stream.acked == [event(1)]

        stream.down = False
        # The drainer clears ``failing`` once its pass returns, just after it removed the last file.
        await wait_for(lambda: not spool.pending() and not drainer.failing)
        assert stream.acked == [event(1), event(2)]
    finally:
        await drainer.stop()


async def test_stopping_leaves_unpublished_events_spooled(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    stream = StreamStandIn(spool)
    stream.down = True
    drainer = SpoolDrainer(stream, spool)
    drainer.start()
    await drainer.keep("completion-req_1", event(1))
    await drainer.stop()
    assert [p.name for p in spool.pending()] == ["completion-req_1.json"]


async def wait_for(condition: object, timeout: float = 3.0) -> None:
    assert callable(condition)
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    pytest.fail("condition not met")
