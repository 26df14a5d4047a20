"""``switchboard-orchestrator`` / ``python -m switchboard.orchestrator``: run one replica until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import nats.errors
import uvloop
from pydantic import ValidationError

from switchboard.orchestrator.app import running
from switchboard.orchestrator.handlers import SERVICE_NAME
from switchboard.orchestrator.route_config import RouteConfigError
from switchboard.orchestrator.settings import OrchestratorSettings

logger = logging.getLogger("switchboard.orchestrator")


async def serve(settings: OrchestratorSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running(settings) as app:
        routes = [*app.router.explicit_names(), *(pattern for pattern, _ in app.router.patterns())]
        logger.info("orchestrator %s serving %s", app.instance_id, ", ".join(routes))
        lost = asyncio.create_task(app.connection_lost.wait())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({lost, stopped}, return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        stopped.cancel()
        logger.info("orchestrator %s shutting down", app.instance_id)
    if app.connection_lost.is_set():
        sys.exit("switchboard-orchestrator: lost the NATS connection")


def main() -> None:
    try:
        settings = OrchestratorSettings()
    except ValidationError as exc:
        sys.exit(f"switchboard-orchestrator: invalid configuration: {exc}")
    tracing = settings.configure_observability(SERVICE_NAME)
    try:
        uvloop.run(serve(settings))  # the libuv loop: markedly less per-message overhead on the hot path
    except RouteConfigError as exc:
        sys.exit(f"switchboard-orchestrator: {exc}")
    except (nats.errors.Error, OSError) as exc:
        # The message never holds the NATS URL, which may carry credentials.
        sys.exit(f"switchboard-orchestrator: cannot reach NATS: {exc}")
    finally:
        tracing.shutdown()


if __name__ == "__main__":
    main()
