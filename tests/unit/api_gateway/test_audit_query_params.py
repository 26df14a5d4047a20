"""Query parameters of ``GET /api/v1/audit``: parsed into filters, or a 400 that names the bad parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.api_gateway.audit.query import AuditFilters, parse_filters
from switchboard.common.errors import InvalidRequestError

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, AuditFilters()),
        ({"limit": "1000", "before_id": "7", "status": "429"}, AuditFilters(limit=1000, before_id=7, status=429)),
        ({"user_id": "u", "endpoint": "/v1/messages"}, AuditFilters(user_id="u", endpoint="/v1/messages")),
        ({"since": "2025-06-01T12:00:00Z"}, AuditFilters(since=T0)),
        ({"until": "2025-06-01t14:00:00.5+02:00"}, AuditFilters(until=T0 + timedelta(milliseconds=500))),
        ({"since": "2025-06-01T14:00:00 02:00"}, AuditFilters(since=T0)),  # "+" decoded as a space
    ],
)
def test_query_parameters(params: dict[str, str], expected: AuditFilters) -> None:
    assert parse_filters(params) == expected


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "-1"}, "status"),
        ({"before_id": "99999999999999999999"}, "before_id"),
        ({"since": "2025-06-01T12:00:00"}, "since"),
        ({"until": "2025-06-01"}, "until"),
        ({"since": "2025-13-01T12:00:00Z"}, "since"),
        ({"user": "u"}, "user"),
    ],
)
def test_invalid_query_parameters_are_400s_naming_the_parameter(params: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidRequestError, match=rf"^{named}: "):
        parse_filters(params)
