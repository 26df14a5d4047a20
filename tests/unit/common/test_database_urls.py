"""Operators write plain database URLs; the services connect with async drivers."""

from __future__ import annotations

import pytest

from switchboard.common.database_urls import async_driver_url


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("postgresql://u@db/x", "postgresql+asyncpg://u@db/x"),
        ("postgres://u@db/x", "postgresql+asyncpg://u@db/x"),
        ("sqlite:////tmp/a.db", "sqlite+aiosqlite:////tmp/a.db"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
    ],
)
def test_plain_urls_get_async_drivers(written: str, used: str) -> None:
    assert async_driver_url(written) == used
