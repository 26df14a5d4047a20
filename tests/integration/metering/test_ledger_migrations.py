"""The ledger's migrations on SQLite and PostgreSQL: rows written before revision 0002 keep their figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from support.metering import make_completion
from support.postgres import throwaway_database
from switchboard.common.database_urls import async_driver_url
from switchboard.common.events import ToolCallRecord
from switchboard.common.usage_events import QueryUsage
from switchboard.metering import database
from switchboard.metering.database import create_engine, migrate
from switchboard.metering.ledger import Ledger

OLD_DAY = date(2025, 3, 1)
NEW_DAY = date(2025, 3, 2)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's own (a sync fixture: the PostgreSQL helpers use asyncio.run)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metering.db'}"
        return
    admin: str = request.getfixturevalue("postgres_url")
    with throwaway_database(tmp_path, admin_dsn=admin) as url:
        yield url


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


_OLD_ROW = text(
    "INSERT INTO metering_usage (request_id, user_id, day, occurred_at, requested_model, input_tokens, output_tokens,"
    " cache_creation_input_tokens, cache_read_input_tokens, tool_calls, execution_ms, status, byok)"
    " VALUES ('req_old', 'alice', :day, :at, 'claude-sonnet', 10, 2, 0, 0, 3, 5.0, 'succeeded', false)"
)


async def test_rows_from_before_0002_count_no_mcp_calls(database_url: str) -> None:
    engine = create_engine(async_driver_url(database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, "0001")
            await connection.execute(_OLD_ROW, {"day": OLD_DAY, "at": datetime(2025, 3, 1, 9, tzinfo=UTC)})
        await migrate(engine)
        ledger = Ledger(engine)
        failed = ToolCallRecord(server_id="notes", name="read_note", duration_ms=1.0, is_error=True)
        ok = failed.model_copy(update={"is_error": False})
        at = datetime(2025, 3, 2, 9, tzinfo=UTC)
        await ledger.record([make_completion("req_new", mcp_tool_calls=[ok, failed], tool_use_count=0, occurred_at=at)])
        report = await ledger.report(QueryUsage(user_id="alice", start=OLD_DAY, end=NEW_DAY))
    finally:
        await engine.dispose()

    figures = {day.key: (day.tool_calls, day.mcp_tool_calls, day.mcp_tool_errors) for day in report.by_day}
    assert figures == {"2025-03-01": (3, 0, 0), "2025-03-02": (2, 2, 1)}
    assert (report.totals.requests, report.totals.tool_calls, report.totals.input_tokens) == (2, 5, 110)
