"""``GET /api/v1/usage``: the caller's usage (any user's, or everyone's, for an administrator), from metering.

The gateway keeps no usage of its own: metering's ledger answers over NATS (``QueryUsage`` → ``UsageReported``),
so the figures are the ones billed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from pydantic import ValidationError

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.principal import Principal, require_admin
from switchboard.api_gateway.state import gateway_state
from switchboard.common.errors import InvalidRequestError, OverloadedError
from switchboard.common.usage_events import QueryUsage

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "router"]

router = APIRouter()

DEFAULT_DAYS = 30
MAX_DAYS = 366
_QUERY_TIMEOUT = 5.0
ALL_USERS = "*"


@router.get("/api/v1/usage")
async def usage(request: Request) -> dict[str, Any]:
    """Query parameters: ``start`` and ``end`` (``YYYY-MM-DD``, UTC, both included; default the last 30 days) and,
    for administrators, ``user_id`` (another user, or ``*`` for everyone)."""
    principal = await current_principal(request)
    params = request.query_params
    start, end = _range(params.get("start"), params.get("end"))
    query = QueryUsage(user_id=_whose(principal, params.get("user_id")), start=start, end=end)
    try:
        report = await gateway_state(request).bus.query_usage(query, timeout=_QUERY_TIMEOUT)
    except NoRespondersError:
        raise OverloadedError("Usage is unavailable: no metering service is running.") from None
    except (NatsError, TimeoutError, ValidationError):
        raise OverloadedError("Usage is unavailable right now; try again.") from None
    return report.model_dump(mode="json")


def _whose(principal: Principal, asked: str | None) -> str | None:
    if asked is None or asked == principal.user_id:
        return principal.user_id
    require_admin(principal)
    return None if asked == ALL_USERS else asked


def _range(start: str | None, end: str | None) -> tuple[date, date]:
    last = _day("end", end) if end else datetime.now(UTC).date()
    first = _day("start", start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidRequestError("start: must not be after end")
    if (last - first).days >= MAX_DAYS:
        raise InvalidRequestError(f"start: the range may span at most {MAX_DAYS} days")
    return first, last


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequestError(f"{name}: expected a date as YYYY-MM-DD, got {value[:40]!r}") from None
