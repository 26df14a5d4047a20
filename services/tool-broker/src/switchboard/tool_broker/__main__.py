"""``python -m switchboard.tool_broker``: serve connectors (HTTP and WebSocket) with uvicorn until SIGTERM."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import uvicorn

from switchboard.tool_broker.app import create_app
from switchboard.tool_broker.bus_handlers import SERVICE_NAME
from switchboard.tool_broker.settings import ToolBrokerSettings


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


class _DenialNoise(logging.Filter):
    """Drops the error uvicorn 0.54's sansio WebSocket protocol logs after every denial response.

    Refused upgrades are answered with ``websocket.http.response`` (a status and an Anthropic error body); that
    path never marks the handshake complete, so uvicorn reports a completed refusal as an application error.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing handshake."


def main() -> None:
    settings = ToolBrokerSettings()
    tracing = settings.configure_observability(SERVICE_NAME)
    # uvicorn handles SIGTERM/SIGINT itself and re-raises the signal once it has shut down gracefully; that
    # second delivery lands here and ends the process with status 0, as the other services do.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _exit_cleanly)
    logging.getLogger("uvicorn.error").addFilter(_DenialNoise())
    try:
        _serve(settings)
    finally:
        tracing.shutdown()


def _serve(settings: ToolBrokerSettings) -> None:
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's lines go through the process's own (JSON) logging
        access_log=False,
        timeout_graceful_shutdown=10,
        # Larger messages close the connection (1009). Heartbeats are the protocol's own ping/pong messages,
        # sent by one task for all connections (heartbeat.py), so the server's per-connection pings are off.
        ws_max_size=settings.max_message_bytes,
        ws_per_message_deflate=settings.ws_compression,
        ws_ping_interval=None,
        ws_ping_timeout=None,
    )


if __name__ == "__main__":
    main()
