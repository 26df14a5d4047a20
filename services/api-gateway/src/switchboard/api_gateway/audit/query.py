"""Reads the audit log: filters parsed from query parameters, newest first, keyset-paginated by row id."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from switchboard.api_gateway.audit.tables import AuditRow
from switchboard.api_gateway.management_query import integer_param, optional_integer_param, reject_unknown_params
from switchboard.common.errors import InvalidRequestError

__all__ = ["MAX_LIMIT", "AuditFilters", "AuditPage", "parse_filters", "query_audit"]

MAX_LIMIT = 1000
_MAX_ID = 2**63 - 1  # PostgreSQL BIGINT: a larger cursor would be a database error, not a 400
_TEXT_FILTERS = ("user_id", "key_id", "model", "endpoint", "request_id")
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+\- ]\d{2}:\d{2})")
_KNOWN = frozenset({*_TEXT_FILTERS, "status", "since", "until", "limit", "before_id"})


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Every filter is optional; ``since`` is inclusive and ``until`` exclusive, so windows tile exactly."""

    user_id: str | None = None
    key_id: str | None = None
    model: str | None = None
    endpoint: str | None = None
    request_id: str | None = None
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    before_id: int | None = None
    """Keyset cursor: only rows with a smaller id (the previous page's ``next_before_id``)."""


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: list[AuditRow]
    has_more: bool

    def public(self) -> dict[str, Any]:
        return {
            "data": [_public(row) for row in self.rows],
            "has_more": self.has_more,
            "next_before_id": self.rows[-1].id if self.has_more else None,
        }


def parse_filters(params: Mapping[str, str]) -> AuditFilters:
    """Filters from query parameters; an unknown or malformed one is a 400 naming it (a typo must not widen)."""
    reject_unknown_params(params, _KNOWN)
    text = {name: params[name] for name in _TEXT_FILTERS if name in params}
    return AuditFilters(
        **text,
        status=optional_integer_param(params, "status", low=100, high=599),
        since=_timestamp(params, "since"),
        until=_timestamp(params, "until"),
        limit=integer_param(params, "limit", low=1, high=MAX_LIMIT, default=100),
        before_id=optional_integer_param(params, "before_id", low=1, high=_MAX_ID),
    )


async def query_audit(engine: AsyncEngine, filters: AuditFilters) -> AuditPage:
    query = _filtered(select(AuditRow), filters).order_by(AuditRow.id.desc()).limit(filters.limit + 1)
    async with AsyncSession(engine) as session:
        rows = list(await session.scalars(query))
    return AuditPage(rows=rows[: filters.limit], has_more=len(rows) > filters.limit)


def _filtered(query: Select[AuditRow], filters: AuditFilters) -> Select[AuditRow]:
    for name in _TEXT_FILTERS:
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(AuditRow, name) == value)
    if filters.status is not None:
        query = query.where(AuditRow.status == filters.status)
    # SQLite keeps datetimes without their offset and the recorder writes UTC: compare in UTC on both backends.
    if filters.since is not None:
        query = query.where(AuditRow.occurred_at >= filters.since.astimezone(UTC))
    if filters.until is not None:
        query = query.where(AuditRow.occurred_at < filters.until.astimezone(UTC))
    if filters.before_id is not None:
        query = query.where(AuditRow.id < filters.before_id)
    return query


def _timestamp(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    match = _RFC3339.fullmatch(raw)
    if match is not None:
        date, clock, fraction, offset = match.groups()
        # An unencoded "+" in a query string arrives as a space: read "… 01:00" as "+01:00".
        offset = "+00:00" if offset in ("Z", "z") else offset.replace(" ", "+")
        with contextlib.suppress(ValueError):  # e.g. month 13; digits past microseconds are dropped
            return datetime.fromisoformat(f"{date}T{clock}{(fraction or '')[:7]}{offset}")
    raise InvalidRequestError(f"{name}: must be an RFC 3339 timestamp with an offset, e.g. 2025-01-31T12:00:00Z")


def _public(row: AuditRow) -> dict[str, Any]:
    occurred_at = row.occurred_at.replace(tzinfo=UTC) if row.occurred_at.tzinfo is None else row.occurred_at
    return {
        "id": row.id,
        "occurred_at": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "request_id": row.request_id,
        "user_id": row.user_id,
        "key_id": row.key_id,
        "method": row.method,
        "endpoint": row.endpoint,
        "model": row.model,
        "status": row.status,
        "latency_ms": row.latency_ms,
        "client_address": row.client_address,
        "body_excerpt": row.body_excerpt,
    }
