"""The audit recorder and the audit query against SQLite and PostgreSQL: batching, bodies, drops, filters, paging."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.api_gateway.audit.query import AuditFilters, query_audit
from switchboard.api_gateway.audit.recorder import AuditEntry, AuditRecorder
from switchboard.api_gateway.database import create_engine, migrate
from switchboard.api_gateway.settings import GatewaySettings

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    # A sync fixture: ``postgres_url`` starts its server with asyncio.run(), impossible inside the running loop.
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('audit') / 'gateway.db'}"


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    url = database_url
    engine = create_engine(GatewaySettings.model_validate({"DATABASE_URL": url}).resolved_database_url())
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def user() -> str:
    """Every test writes under its own user: the database may be shared with other tests of the session."""
    return f"user-{uuid.uuid4().hex[:12]}"


def entry(user: str, n: int, **changes: Any) -> AuditEntry:
    base = AuditEntry(
        occurred_at=T0 + timedelta(minutes=n), request_id=f"req_{user}_{n}", method="POST",
        endpoint="/v1/messages", status=200, latency_ms=12.5, user_id=user, key_id="key_a",
        model="claude-a", client_address="203.0.113.7",
    )  # fmt: skip
    return replace(base, **changes)


async def rows_of(engine: AsyncEngine, user: str, **filters: Any) -> list[Any]:
    page = await query_audit(engine, AuditFilters(user_id=user, limit=1000, **filters))
    return page.rows


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_full_batch_is_written_at_once_and_the_rest_on_stop(engine: AsyncEngine, user: str) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO GATEWAY_AUDIT_LOG"):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    recorder = AuditRecorder(engine, store_bodies=False, batch_size=3, flush_interval=60)
    try:
        await recorder.start()
        recorder.record(entry(user, 0))
        recorder.record(entry(user, 1))
        await asyncio.sleep(0.2)
        assert (recorder.pending, statements) == (2, [])  # a partial batch waits for the interval (a minute here)
        recorder.record(entry(user, 2))

        async def three_written() -> bool:
            return len(await rows_of(engine, user)) == 3

        await eventually(three_written)
        assert len(statements) == 1
        recorder.record(entry(user, 3))
        recorder.record(entry(user, 4))
        await asyncio.sleep(0.2)
        assert recorder.pending == 2
        await recorder.stop()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert [row.request_id for row in await rows_of(engine, user)] == [f"req_{user}_{n}" for n in (4, 3, 2, 1, 0)]
    assert len(statements) == 2
    assert recorder.dropped == 0


async def test_a_partial_batch_is_written_after_the_flush_interval(engine: AsyncEngine, user: str) -> None:
    recorder = AuditRecorder(engine, store_bodies=False, batch_size=1000, flush_interval=0.05)
    await recorder.start()
    try:
        recorder.record(entry(user, 0))

        async def written() -> bool:
            return len(await rows_of(engine, user)) == 1

        await eventually(written)
    finally:
        await recorder.stop()


@pytest.mark.parametrize("store_bodies", [False, True])
async def test_bodies_are_kept_only_when_enabled(engine: AsyncEngine, user: str, store_bodies: bool) -> None:
    recorder = AuditRecorder(engine, store_bodies=store_bodies)
    recorder.record(entry(user, 0, body_excerpt='{"messages": [{"role": "user", "content": "secret plans"}]}'))
    await recorder.stop()
    [row] = await rows_of(engine, user)
    assert row.body_excerpt == ('{"messages": [{"role": "user", "content": "secret plans"}]}' if store_bodies else None)


async def test_a_full_queue_drops_the_oldest_and_warns_once(
    engine: AsyncEngine, user: str, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = AuditRecorder(engine, store_bodies=False, max_queue=3)
    with caplog.at_level(logging.WARNING, logger="switchboard.api_gateway.audit.recorder"):
        for n in range(6):
            recorder.record(entry(user, n))
    assert (recorder.dropped, recorder.pending) == (3, 3)
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1
    await recorder.stop()
    assert [row.request_id for row in await rows_of(engine, user)] == [f"req_{user}_{n}" for n in (5, 4, 3)]


async def test_values_are_normalised_to_what_both_databases_accept(engine: AsyncEngine, user: str) -> None:
    recorder = AuditRecorder(engine, store_bodies=True)
    plus_two = timezone(timedelta(hours=2))
    recorder.record(entry(user, 0, endpoint="/v1/\x00x", model="m" * 300, body_excerpt="a\x00b",
                          occurred_at=datetime(2025, 6, 1, 14, 30, tzinfo=plus_two)))  # fmt: skip
    await recorder.stop()
    [row] = (await query_audit(engine, AuditFilters(user_id=user))).public()["data"]
    assert row["endpoint"] == "/v1/\ufffdx"
    assert row["model"] == "m" * 255
    assert row["body_excerpt"] == "a\ufffdb"
    assert row["occurred_at"] == "2025-06-01T12:30:00Z"
    assert row["latency_ms"] == 12.5


async def test_a_batch_the_database_keeps_refusing_is_dropped(tmp_path: Path) -> None:
    unmigrated = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    recorder = AuditRecorder(unmigrated, store_bodies=False, flush_interval=0.01)
    await recorder.start()
    try:
        recorder.record(entry("nobody", 0))

        async def dropped() -> bool:
            return recorder.dropped == 1

        await eventually(dropped)
        assert recorder.pending == 0
    finally:
        await recorder.stop()
        await unmigrated.dispose()


@pytest.fixture
async def seeded(engine: AsyncEngine, user: str) -> str:
    recorder = AuditRecorder(engine, store_bodies=False)
    recorder.record(entry(user, 0))
    recorder.record(entry(user, 1, status=429, model="claude-b"))
    recorder.record(entry(user, 2, key_id="key_b", endpoint="/v1/models", method="GET", model=None))
    recorder.record(entry(user, 3, status=429))
    recorder.record(entry(user, 4, key_id=None))
    await recorder.stop()
    return user


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [4, 3, 2, 1, 0]),
        ({"status": 429}, [3, 1]),
        ({"model": "claude-b"}, [1]),
        ({"key_id": "key_b"}, [2]),
        ({"endpoint": "/v1/models"}, [2]),
        ({"since": T0 + timedelta(minutes=1), "until": T0 + timedelta(minutes=3)}, [2, 1]),
        ({"since": datetime(2025, 6, 1, 9, 2, tzinfo=timezone(timedelta(hours=-3)))}, [4, 3, 2]),
        ({"status": 429, "model": "claude-a"}, [3]),
        ({"status": 500}, []),
    ],
)
async def test_filters(engine: AsyncEngine, seeded: str, filters: dict[str, Any], expected: list[int]) -> None:
    rows = await rows_of(engine, seeded, **filters)
    assert [row.request_id for row in rows] == [f"req_{seeded}_{n}" for n in expected]


async def test_request_id_filter(engine: AsyncEngine, seeded: str) -> None:
    page = await query_audit(engine, AuditFilters(request_id=f"req_{seeded}_3"))
    assert [row.status for row in page.rows] == [429]


async def test_keyset_pagination_walks_newest_first_without_gaps(engine: AsyncEngine, seeded: str) -> None:
    seen: list[str] = []
    before_id: int | None = None
    pages = 0
    while True:
        body = (await query_audit(engine, AuditFilters(user_id=seeded, limit=2, before_id=before_id))).public()
        pages += 1
        seen += [row["request_id"] for row in body["data"]]
        ids = [row["id"] for row in body["data"]]
        assert ids == sorted(ids, reverse=True)
        if not body["has_more"]:
            assert body["next_before_id"] is None
            break
        assert body["next_before_id"] == ids[-1]
        before_id = body["next_before_id"]
    assert pages == 3
    assert seen == [f"req_{seeded}_{n}" for n in (4, 3, 2, 1, 0)]


async def test_an_exactly_full_page_says_there_is_no_more(engine: AsyncEngine, seeded: str) -> None:
    body = (await query_audit(engine, AuditFilters(user_id=seeded, limit=5))).public()
    assert (len(body["data"]), body["has_more"], body["next_before_id"]) == (5, False, None)
