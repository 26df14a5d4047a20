"""``python -m switchboard.tool_broker``: run one tool-broker replica until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging

from switchboard.tool_broker.app import create_app
from switchboard.tool_broker.settings import ToolBrokerSettings


def main() -> None:
    settings = ToolBrokerSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(create_app(settings).run())


if __name__ == "__main__":
    main()
