"""``QueryDeadLetters`` against a real metering process and JetStream: newest first, per user, limited, replayed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.lago import FakeLago
from support.metering import MeteringHarness, make_completion
from switchboard.common.usage_events import DeadLettersListed, QueryDeadLetters
from switchboard.metering.dead_letters import replay_dead_letters


@pytest.fixture
def lago() -> Iterator[FakeLago]:
    with FakeLago() as fake:
        yield fake


async def dead_letters(bus: MeteringHarness, **fields: object) -> DeadLettersListed:
    query = QueryDeadLetters.model_validate(fields)
    return DeadLettersListed.model_validate_json(
        await bus.request(bus.subjects.query_dead_letters, query.model_dump_json().encode())
    )


async def test_dead_letters_are_listed_newest_first(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    async with MeteringHarness(nats_url, tmp_path, lago) as bus:
        for request_id in ("req_a1", "req_b1", "req_a2"):
            lago.refuse(request_id, {"code": ["does_not_exist"]})
        bus.start()
        assert (await dead_letters(bus)) == DeadLettersListed(total=0, items=[])
        await bus.publish(make_completion("req_a1"), make_completion("req_ok"))
        await bus.settled()
        await bus.publish(make_completion("req_b1", user_id="bob", requested_model="claude-haiku"))
        await bus.settled()
        await bus.publish_raw("bob", b"{not json")
        await bus.settled()
        await bus.publish(make_completion("req_a2"))
        status = await bus.settled()

        everyone = await dead_letters(bus)
        alice = await dead_letters(bus, user_id="alice")
        bob_newest = await dead_letters(bus, user_id="bob", limit=1)
        nobody = await dead_letters(bus, user_id="carol")

    assert everyone.total == status.dead_letters == 4
    assert [item.request_id for item in everyone.items] == ["req_a2", None, "req_b1", "req_a1"]
    sequences = [item.sequence for item in everyone.items]
    assert sequences == sorted(sequences, reverse=True)
    times = [item.occurred_at for item in everyone.items]
    assert times == sorted(times, reverse=True)
    refused = everyone.items[2]
    assert (refused.user_id, refused.model, refused.lago_status) == ("bob", "claude-haiku", 422)
    assert "does_not_exist" in refused.reason
    malformed = everyone.items[1]
    assert (malformed.user_id, malformed.model, malformed.reason, malformed.lago_status) == (
        "bob", None, "malformed", None,
    )  # fmt: skip
    assert (alice.total, [item.request_id for item in alice.items]) == (2, ["req_a2", "req_a1"])
    assert (bob_newest.total, [item.request_id for item in bob_newest.items]) == (2, [None])
    assert nobody == DeadLettersListed(total=0, items=[])


async def test_a_long_stream_is_paged_from_its_end(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    """More letters than the listing's first window, with the user asked about only at the very start."""
    async with MeteringHarness(nats_url, tmp_path, lago) as bus:
        ids = ["req_first", *(f"req_{i}" for i in range(200))]
        for request_id in ids:
            lago.refuse(request_id)
        bus.start()
        await bus.publish(make_completion("req_first", user_id="bob"))
        await bus.settled()
        await bus.publish(*(make_completion(request_id) for request_id in ids[1:]))
        await bus.settled()

        newest = await dead_letters(bus, limit=500)
        bob = await dead_letters(bus, user_id="bob")
        assert bus.nc is not None
        lago.accept_all()
        assert await replay_dead_letters(bus.nc, bus.subjects, limit=150) == 150
        after_replay = await dead_letters(bus, limit=3)

    assert newest.total == len(newest.items) == 201
    assert sorted(item.request_id or "" for item in newest.items) == sorted(ids)
    assert newest.items[-1].request_id == "req_first"
    assert (bob.total, [item.request_id for item in bob.items]) == (1, ["req_first"])
    # The replay deleted the oldest 150 from the stream; the newest three are still the same.
    assert after_replay.total == 51
    assert [item.request_id for item in after_replay.items] == [item.request_id for item in newest.items[:3]]


async def test_an_invalid_query_gets_an_error_answer(tmp_path: Path, nats_url: str) -> None:
    async with MeteringHarness(nats_url, tmp_path, None) as bus:
        bus.start()
        answer = json.loads(await bus.request(bus.subjects.query_dead_letters, b'{"limit": 501}'))
    assert answer == {"error": "invalid QueryDeadLetters: 1 errors"}
