"""``python -m switchboard.metering``: run one metering replica until SIGTERM or SIGINT."""

from __future__ import annotations

import logging

import uvloop

from switchboard.metering.app import create_app
from switchboard.metering.settings import MeteringSettings


def main() -> None:
    settings = MeteringSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvloop.run(create_app(settings).run())


if __name__ == "__main__":
    main()
