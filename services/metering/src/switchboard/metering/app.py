"""Composition root of the metering service: its NATS broker and the handlers it registers.

Metering deliberately does **not** consume ``CompletionRecorded`` yet. Those facts wait in the usage stream
(``Subjects.usage_stream``) until billing to Lago exists: a consumer that acked them without billing would lose
them for good. So far the service only answers liveness probes.
"""

from __future__ import annotations

import logging

from faststream import FastStream
from faststream.nats import NatsBroker

from switchboard.common.ids import new_id
from switchboard.metering.settings import MeteringSettings

__all__ = ["SERVICE_NAME", "create_app"]

SERVICE_NAME = "metering"


def create_app(settings: MeteringSettings) -> FastStream:
    """A FastStream app that connects to NATS and answers ``Subjects.ping("metering")``."""
    logger = logging.getLogger("switchboard.metering")
    # Per-message "Received/Processed" lines at DEBUG: liveness probes arrive every few seconds.
    broker = NatsBroker(
        settings.nats_servers(), name=SERVICE_NAME, logger=logger, log_level=logging.DEBUG, graceful_timeout=10.0
    )
    instance = new_id("mt")

    @broker.subscriber(settings.subjects.ping(SERVICE_NAME), queue=SERVICE_NAME)
    async def ping() -> dict[str, str]:
        return {"instance": instance}

    return FastStream(broker, logger=logger)
