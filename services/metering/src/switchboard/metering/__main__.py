"""``python -m switchboard.metering``: run one metering replica until SIGTERM or SIGINT."""

from __future__ import annotations

import uvloop

from switchboard.metering.app import SERVICE_NAME, create_app
from switchboard.metering.settings import MeteringSettings


def main() -> None:
    settings = MeteringSettings()
    tracing = settings.configure_observability(SERVICE_NAME)
    try:
        uvloop.run(create_app(settings).run())
    finally:
        tracing.shutdown()


if __name__ == "__main__":
    main()
