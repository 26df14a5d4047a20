"""A throwaway PostgreSQL database for one test run: on the local server if one answers, else pgserver's."""

from __future__ import annotations

import asyncio
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["embedded_admin_dsn", "throwaway_database"]

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
def embedded_admin_dsn(scratch: Path) -> Iterator[str]:
    """A private PostgreSQL from the pgserver wheel, for machines where none is running."""
    with _quiet():
        import pgserver  # only needed where no PostgreSQL is running

        server = pgserver.get_server(scratch / "pgdata", cleanup_mode="stop")
        uri = str(server.get_uri())
    try:
        yield uri
    finally:
        with _quiet():
            server.cleanup()


@contextmanager
def _quiet() -> Iterator[None]:
    """pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset, as it is in CI."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def _admin_dsn(scratch: Path) -> Iterator[str]:
    if asyncio.run(_reachable(_LOCAL_ADMIN_DSN)):
        yield _LOCAL_ADMIN_DSN
        return
    with embedded_admin_dsn(scratch) as dsn:
        yield dsn


@contextmanager
def throwaway_database(scratch: Path, admin_dsn: str | None = None) -> Iterator[str]:
    """Yield the plain ``postgresql://`` URL of a new, empty database; drop it afterwards."""
    name = f"switchboard_test_{secrets.token_hex(4)}"
    with _admin_dsn(scratch) if admin_dsn is None else _given(admin_dsn) as admin:
        asyncio.run(_execute(admin, f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin).set(database=name).render_as_string(hide_password=False)
        finally:
            asyncio.run(_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _given(dsn: str) -> Iterator[str]:
    yield dsn
