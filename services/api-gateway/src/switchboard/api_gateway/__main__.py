"""``python -m switchboard.api_gateway``: serve the Anthropic Messages API with uvicorn (uvloop, httptools)."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import uvicorn

from switchboard.api_gateway.app import create_app
from switchboard.api_gateway.database import migrated_engine
from switchboard.api_gateway.settings import GatewaySettings

WORKER_APP_FACTORY = "switchboard.api_gateway.app:app_from_environment"


async def _migrate_once(settings: GatewaySettings) -> None:
    async with migrated_engine(settings.resolved_database_url()):
        pass  # opening it migrated the schema: all the parent process has to do


def main() -> None:
    settings = GatewaySettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run = partial(
        uvicorn.run,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    if settings.workers == 1:
        run(create_app(settings))
        return
    # Before the workers start: SQLite workers migrating at once would race (PostgreSQL ones take a lock).
    asyncio.run(_migrate_once(settings))
    run(WORKER_APP_FACTORY, factory=True, workers=settings.workers)


if __name__ == "__main__":
    main()
