"""``python -m switchboard.api_gateway``: serve the Anthropic Messages API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from switchboard.api_gateway.app import create_app
from switchboard.api_gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
