"""``switchboard connect``: start the MCP server once, then keep it linked to the broker until Ctrl-C.

The composition root of the connector: it wires the MCP bridge to the WebSocket or polling link, reconnects
with backoff, and turns every way of stopping into an exit code with a one-line message (never a traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Protocol

from switchboard.cli.connect.backoff import Backoff
from switchboard.cli.connect.broker_http import BrokerHttp, http_client
from switchboard.cli.connect.errors import (
    AuthenticationError,
    ConnectError,
    InvalidOptionsError,
    LinkDroppedError,
    McpServerError,
)
from switchboard.cli.connect.mcp_bridge import open_bridge
from switchboard.cli.connect.options import ConnectOptions, server_id_from_name
from switchboard.cli.connect.polling_link import PollingLink
from switchboard.cli.connect.websocket_link import WebSocketLink

__all__ = ["EXIT_FATAL", "EXIT_MCP_SERVER", "Link", "run_connect", "serve_connector"]

log = logging.getLogger("switchboard.cli.connect")

EXIT_MCP_SERVER = 1
"""The MCP server could not start, or its process ended."""
EXIT_FATAL = 2
"""Refused credentials or unusable options: retrying cannot help."""


class Link(Protocol):
    """A way to reach the broker. ``serve`` runs one session and raises :class:`LinkDroppedError` when it breaks."""

    async def serve(self, on_registered: Callable[[], None]) -> None: ...

    async def aclose(self) -> None: ...


async def _first_of(work: Awaitable[None], stop: Awaitable[object]) -> bool:
    """Run both until one ends; ``True`` if ``stop`` ended first. ``work``'s exception propagates."""
    work_task, stop_task = asyncio.ensure_future(work), asyncio.ensure_future(stop)
    try:
        done, _ = await asyncio.wait({work_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work_task, stop_task):
            task.cancel()
        await asyncio.gather(work_task, stop_task, return_exceptions=True)
    if work_task in done:
        work_task.result()
        return False
    return True


async def _reconnect_forever(link: Link) -> None:
    backoff = Backoff()
    while True:
        try:
            await link.serve(on_registered=backoff.reset)
            reason = "the broker ended the session"
        except LinkDroppedError as exc:
            reason = str(exc)
        delay = backoff.next_delay()
        log.warning("%s; reconnecting in %.1f s", reason, delay)
        await asyncio.sleep(delay)


async def serve_connector(options: ConnectOptions) -> None:
    """Run the connector until cancelled; raises a :class:`ConnectError` when it cannot go on."""
    # The program only: its arguments may hold tokens.
    log.info("starting the MCP server %s", options.command[0])
    async with open_bridge(options.command, tool_timeout=options.tool_timeout, env=dict(options.server_env)) as bridge:
        tools = await bridge.list_tools()
        server_id = options.server_id or server_id_from_name(bridge.server_name)
        if not tools:
            # An empty list registers nothing new: the broker keeps what was last registered for this server id.
            log.warning("the MCP server %s offers no tools", options.command[0])
        async with http_client(options) as client:
            http = BrokerHttp(options, client)
            link_type = PollingLink if options.poll else WebSocketLink
            link: Link = link_type(options, http, bridge, server_id, tools)
            try:
                if await _first_of(_reconnect_forever(link), bridge.wait_exited()):
                    raise McpServerError("the MCP server's process ended")
            finally:
                await link.aclose()


async def _until_signalled(options: ConnectOptions) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C arrives as KeyboardInterrupt instead
            loop.add_signal_handler(signum, stopped.set)
            handled.append(signum)
    try:
        if await _first_of(serve_connector(options), stopped.wait()):
            log.info("stopped")
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


def _configure_logging(level: str) -> None:
    # Only the connector's own logger goes below WARNING: httpx would log every poll at INFO.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S", level=logging.WARNING)
    log.setLevel(level)


def run_connect(options: ConnectOptions) -> int:
    """The ``switchboard connect`` command: 0 after Ctrl-C or SIGTERM, else the exit code of what stopped it."""
    _configure_logging(options.log_level)
    try:
        asyncio.run(_until_signalled(options))
    except KeyboardInterrupt:
        return 0
    except (AuthenticationError, InvalidOptionsError) as exc:
        print(f"switchboard connect: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except ConnectError as exc:
        print(f"switchboard connect: {exc}", file=sys.stderr)
        return EXIT_MCP_SERVER
    return 0
