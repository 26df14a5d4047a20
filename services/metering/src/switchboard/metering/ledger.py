"""The usage ledger: idempotent writes of completions and the aggregated reads behind ``QueryUsage``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.common.events import CompletionRecorded
from switchboard.common.usage_events import QueryUsage, UsageBreakdown, UsageReported, UsageTotals
from switchboard.metering.lago_events import tool_calls
from switchboard.metering.ledger_tables import UsageRow

__all__ = ["Ledger"]

_usage = UsageRow.__table__


def _row(completion: CompletionRecorded) -> dict[str, Any]:
    occurred = completion.occurred_at.astimezone(UTC)
    return {
        "request_id": completion.request_id,
        "user_id": completion.user_id,
        "day": occurred.date(),
        "occurred_at": occurred,
        "requested_model": completion.requested_model,
        "upstream_model": completion.upstream_model,
        "provider": completion.provider,
        "input_tokens": completion.input_tokens,
        "output_tokens": completion.output_tokens,
        "cache_creation_input_tokens": completion.cache_creation_input_tokens,
        "cache_read_input_tokens": completion.cache_read_input_tokens,
        "tool_calls": tool_calls(completion),
        "mcp_tool_calls": len(completion.mcp_tool_calls),
        "mcp_tool_errors": sum(1 for call in completion.mcp_tool_calls if call.is_error),
        "execution_ms": completion.latency_ms,
        "status": completion.status,
        "byok": completion.byok,
        "billed_at": None,
    }


def _totals_columns() -> list[ColumnElement[Any]]:
    c = UsageRow
    return [
        func.count().label("requests"),
        *(
            func.coalesce(func.sum(column), 0).label(column.key)
            for column in (
                c.input_tokens,
                c.output_tokens,
                c.cache_creation_input_tokens,
                c.cache_read_input_tokens,
                c.tool_calls,
                c.mcp_tool_calls,
                c.mcp_tool_errors,
                c.execution_ms,
            )
        ),
    ]


def _totals(row: Row[Any]) -> dict[str, Any]:
    fields = ("requests", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    counts = (*fields, "tool_calls", "mcp_tool_calls", "mcp_tool_errors")
    values: dict[str, Any] = {name: int(getattr(row, name)) for name in counts}
    values["execution_ms"] = float(row.execution_ms)
    return values


class Ledger:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, completions: Sequence[CompletionRecorded]) -> None:
        """Insert one row per request; a request already recorded (a redelivery, a replay) is left as it is."""
        if not completions:
            return
        rows = list({c.request_id: _row(c) for c in completions}.values())
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        # Parameters apart from the statement: one compiled statement, cached, whatever the batch size.
        statement = dialect.insert(_usage).on_conflict_do_nothing(index_elements=["request_id"])
        async with self._engine.begin() as connection:
            await connection.execute(statement, rows)

    async def mark_billed(self, request_ids: Sequence[str]) -> None:
        if not request_ids:
            return
        statement = (
            update(UsageRow)
            .where(UsageRow.request_id.in_(list(request_ids)), UsageRow.billed_at.is_(None))
            .values(billed_at=datetime.now(UTC))
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def report(self, query: QueryUsage) -> UsageReported:
        """Totals, per day and per requested model over [start, end], summed by the database."""
        where: list[ColumnElement[bool]] = [UsageRow.day >= query.start, UsageRow.day <= query.end]
        if query.user_id is not None:
            where.append(UsageRow.user_id == query.user_id)
        async with self._engine.connect() as connection:
            totals = (await connection.execute(select(*_totals_columns()).where(*where))).one()
            by_day = await connection.execute(
                select(UsageRow.day, *_totals_columns()).where(*where).group_by(UsageRow.day).order_by(UsageRow.day)
            )
            by_model = await connection.execute(
                select(UsageRow.requested_model, *_totals_columns())
                .where(*where)
                .group_by(UsageRow.requested_model)
                .order_by(UsageRow.requested_model)
            )
            return UsageReported(
                user_id=query.user_id,
                start=query.start,
                end=query.end,
                totals=UsageTotals(**_totals(totals)),
                by_day=[UsageBreakdown(key=_day_key(row.day), **_totals(row)) for row in by_day],
                by_model=[UsageBreakdown(key=row.requested_model, **_totals(row)) for row in by_model],
            )


def _day_key(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else str(day)
