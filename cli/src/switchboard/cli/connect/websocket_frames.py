"""JSON messages over the connector's WebSocket: receiving, heartbeats, and what a refusal or a close means.

Heartbeats are the protocol's own ``ping``/``pong`` messages (not WebSocket ping frames). A connection silent
for 60 s is dead: both sides ping every 20 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from switchboard.cli.connect.errors import AuthenticationError, ConnectError, LinkDroppedError
from switchboard.common.mcp_protocol import ErrorMessage, PingMessage, PongMessage

__all__ = [
    "AUTH_CLOSE_CODES",
    "AUTH_ERROR_TYPES",
    "PING_INTERVAL",
    "SILENCE_LIMIT",
    "answer_ping",
    "broker_refused",
    "closed_error",
    "heartbeat",
    "receive_json",
    "upgrade_refused",
]

log = logging.getLogger(__name__)

AUTH_ERROR_TYPES = frozenset({"authentication_error", "permission_error"})
AUTH_CLOSE_CODES = frozenset({4401, 4403})
PING_INTERVAL = 20.0
SILENCE_LIMIT = 60.0


async def receive_json(websocket: ClientConnection, silence_limit: float = SILENCE_LIMIT) -> dict[str, object]:
    """The next JSON object from the broker; anything else is skipped. Silence is a dead connection."""
    while True:
        try:
            async with asyncio.timeout(silence_limit):
                raw = await websocket.recv()
        except TimeoutError:
            raise LinkDroppedError(f"nothing heard from the broker for {silence_limit:g} s") from None
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if isinstance(message, dict):
            return message
        log.warning("ignoring a message from the broker that is not a JSON object")


async def answer_ping(websocket: ClientConnection, kind: object) -> None:
    if kind == "ping":
        await websocket.send(PongMessage().model_dump_json())


async def heartbeat(websocket: ClientConnection, interval: float = PING_INTERVAL) -> None:
    """Ping the broker every ``interval`` seconds until the connection closes."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.sleep(interval)
            await websocket.send(PingMessage().model_dump_json())


def broker_refused(error: ErrorMessage, what: str) -> ConnectError:
    text = f"Switchboard refused {what}: {error.error.type}: {error.error.message}"
    return AuthenticationError(text) if error.error.type in AUTH_ERROR_TYPES else LinkDroppedError(text)


def upgrade_refused(exc: InvalidStatus) -> ConnectError:
    status = exc.response.status_code
    if status in (401, 403):
        return AuthenticationError(f"Switchboard refused the WebSocket (HTTP {status})")
    return LinkDroppedError(f"the WebSocket upgrade was refused with HTTP {status}")


def closed_error(exc: ConnectionClosed) -> ConnectError:
    code, reason = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd is not None else (1006, "")
    if code in AUTH_CLOSE_CODES:
        return AuthenticationError(f"Switchboard closed the WebSocket ({code}{': ' + reason if reason else ''})")
    return LinkDroppedError(f"the WebSocket closed ({code}{': ' + reason if reason else ''})")
