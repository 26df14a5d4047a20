"""``python -m switchboard.api_gateway``: serve the Anthropic Messages API with uvicorn (uvloop, httptools)."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn

from switchboard.api_gateway.app import SERVICE_NAME, create_app
from switchboard.api_gateway.database import migrated_engine
from switchboard.api_gateway.settings import GatewaySettings
from switchboard.api_gateway.shutdown import CUT_MARGIN_SECONDS, Drain, DrainingServer, exit_zero_on_sigterm

WORKER_APP_FACTORY = "switchboard.api_gateway.app:app_from_environment"


async def _migrate_once(settings: GatewaySettings) -> None:
    async with migrated_engine(settings.resolved_database_url()):
        pass  # opening it migrated the schema: all the parent process has to do


def main() -> None:
    settings = GatewaySettings()
    tracing = settings.configure_observability(SERVICE_NAME)
    try:
        _serve(settings)
    finally:
        tracing.shutdown()


def _serve(settings: GatewaySettings) -> None:
    # uvicorn cuts connections after the drain's own deadline: streams still running get their error event first.
    cut_after = int(settings.shutdown_grace + CUT_MARGIN_SECONDS)
    # log_config=None: uvicorn's lines go through the process's own (JSON) logging, not a config of its own.
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": cut_after,
    }
    if settings.workers == 1:
        drain = Drain(settings.shutdown_grace)
        config = uvicorn.Config(create_app(settings, drain), **options)
        exit_zero_on_sigterm()
        DrainingServer(config, drain).run()
        return
    # Before the workers start: SQLite workers migrating at once would race (PostgreSQL ones take a lock).
    asyncio.run(_migrate_once(settings))
    uvicorn.run(WORKER_APP_FACTORY, factory=True, workers=settings.workers, **options)


if __name__ == "__main__":
    main()
