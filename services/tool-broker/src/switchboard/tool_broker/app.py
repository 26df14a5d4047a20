"""Composition root of the tool-broker: its NATS broker and the handlers it registers.

So far the tool-broker only answers liveness probes; running users' MCP connectors (``ExecuteToolCall`` ->
``ToolCallCompleted``) comes with its own issue.
"""

from __future__ import annotations

import logging

from faststream import FastStream
from faststream.nats import NatsBroker

from switchboard.common.ids import new_id
from switchboard.tool_broker.settings import ToolBrokerSettings

__all__ = ["SERVICE_NAME", "create_app"]

SERVICE_NAME = "tool-broker"


def create_app(settings: ToolBrokerSettings) -> FastStream:
    """A FastStream app that connects to NATS and answers ``Subjects.ping("tool-broker")``."""
    logger = logging.getLogger("switchboard.tool_broker")
    # Per-message "Received/Processed" lines at DEBUG: liveness probes arrive every few seconds.
    broker = NatsBroker(
        settings.nats_servers(), name=SERVICE_NAME, logger=logger, log_level=logging.DEBUG, graceful_timeout=10.0
    )
    instance = new_id("tb")

    @broker.subscriber(settings.subjects.ping(SERVICE_NAME), queue=SERVICE_NAME)
    async def ping() -> dict[str, str]:
        return {"instance": instance}

    return FastStream(broker, logger=logger)
