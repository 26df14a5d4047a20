"""A throwaway PostgreSQL database for one test run: on the local server if one answers, else pgserver's."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

__all__ = ["throwaway_database"]

_LOCAL_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _reachable(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def _execute(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def _admin_dsn(scratch: Path) -> Iterator[str]:
    if asyncio.run(_reachable(_LOCAL_ADMIN_DSN)):
        yield _LOCAL_ADMIN_DSN
        return
    import pgserver  # only needed where no PostgreSQL is running

    server = pgserver.get_server(scratch / "pgdata", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextmanager
def throwaway_database(scratch: Path) -> Iterator[str]:
    """Yield the plain ``postgresql://`` URL of a new, empty database; drop it afterwards."""
    name = f"switchboard_test_{secrets.token_hex(4)}"
    with _admin_dsn(scratch) as admin:
        asyncio.run(_execute(admin, f'CREATE DATABASE "{name}"'))
        try:
            yield admin.rsplit("/", 1)[0] + f"/{name}"
        finally:
            asyncio.run(_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
