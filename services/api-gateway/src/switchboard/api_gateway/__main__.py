"""``python -m switchboard.api_gateway``: serve the Anthropic Messages API with uvicorn (uvloop, httptools)."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from switchboard.api_gateway.app import create_app
from switchboard.api_gateway.database import migrated_engine
from switchboard.api_gateway.settings import GatewaySettings
from switchboard.api_gateway.shutdown import CUT_MARGIN_SECONDS, Drain, DrainingServer, exit_zero_on_sigterm

WORKER_APP_FACTORY = "switchboard.api_gateway.app:app_from_environment"


async def _migrate_once(settings: GatewaySettings) -> None:
    async with migrated_engine(settings.resolved_database_url()):
        pass  # opening it migrated the schema: all the parent process has to do


def main() -> None:
    settings = GatewaySettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # uvicorn cuts connections after the drain's own deadline: streams still running get their error event first.
    cut_after = int(settings.shutdown_grace + CUT_MARGIN_SECONDS)
    log_level = settings.log_level.lower()
    if settings.workers == 1:
        drain = Drain(settings.shutdown_grace)
        config = uvicorn.Config(create_app(settings, drain), host=settings.host, port=settings.port,
                                log_level=log_level, access_log=False, timeout_graceful_shutdown=cut_after)  # fmt: skip
        exit_zero_on_sigterm()
        DrainingServer(config, drain).run()
        return
    # Before the workers start: SQLite workers migrating at once would race (PostgreSQL ones take a lock).
    asyncio.run(_migrate_once(settings))
    uvicorn.run(WORKER_APP_FACTORY, factory=True, workers=settings.workers, host=settings.host, port=settings.port,
                log_level=log_level, access_log=False, timeout_graceful_shutdown=cut_after)  # fmt: skip


if __name__ == "__main__":
    main()
