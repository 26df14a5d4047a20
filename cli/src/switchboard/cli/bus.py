"""Which NATS server ``switchboard up`` uses: the configured one if it is fit for Switchboard, else a private one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.errors

from switchboard.cli.embedded_nats import EmbeddedNats

__all__ = ["MIN_NATS_VERSION", "Bus", "choose_bus", "unfit_reason"]

MIN_NATS_VERSION = (2, 12)
"""The oldest NATS Switchboard supports (``NATS_URL`` in docs/configuration.md)."""


@dataclass
class Bus:
    """The NATS server the stack runs on; ``embedded`` is set when ``switchboard up`` started it."""

    configured_url: str | None = None
    embedded: EmbeddedNats | None = None

    @property
    def url(self) -> str:
        if self.embedded is not None:
            return self.embedded.url
        assert self.configured_url is not None
        return self.configured_url

    @property
    def monitor_url(self) -> str | None:
        """The embedded server's HTTP monitoring endpoint (unknown for a server from ``NATS_URL``)."""
        return None if self.embedded is None else f"http://127.0.0.1:{self.embedded.monitor_port}"

    def describe(self) -> str:
        if self.embedded is None:
            return f"{self.url} (from NATS_URL)"
        return f"{self.url} (embedded; store {self.embedded.store_dir}, monitoring {self.monitor_url})"

    def start(self) -> None:
        if self.embedded is not None:
            self.embedded.start()

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


async def _ignore_error(_: Exception) -> None:
    """nats-py logs connection errors with a traceback by default; :func:`unfit_reason` reports them itself."""


async def unfit_reason(url: str, timeout: float = 2.0) -> str | None:
    """``None`` if ``url`` reaches NATS >= 2.12 with JetStream enabled, otherwise why it can't be used."""
    try:
        servers = [server.strip() for server in url.split(",") if server.strip()]
        # nats-py retries the initial connection too (max_reconnect_attempts=0 means forever): bound it.
        connecting = nats.connect(
            servers,
            connect_timeout=int(max(1, timeout)),
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.1,
            error_cb=_ignore_error,
        )
        connection = await asyncio.wait_for(connecting, timeout * len(servers) * 2)
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        return f"cannot connect: {exc or type(exc).__name__}"
    try:
        version = connection.connected_server_version
        if (version.major, version.minor) < MIN_NATS_VERSION:
            minimum = ".".join(map(str, MIN_NATS_VERSION))
            return f"server is {version.major}.{version.minor}.{version.patch}, older than {minimum}"
        await asyncio.wait_for(connection.jetstream(timeout=timeout).account_info(), timeout)
    except (TimeoutError, nats.errors.Error) as exc:
        return f"JetStream is not available: {exc or type(exc).__name__}"
    finally:
        await connection.close()
    return None


def choose_bus(configured_url: str | None, store_dir: Path) -> tuple[Bus, str | None]:
    """The bus to use (call ``start()``), and why ``configured_url`` was passed over (``None``: used or unset)."""
    reason = None
    if configured_url is not None:
        reason = asyncio.run(unfit_reason(configured_url))
        if reason is None:
            return Bus(configured_url=configured_url), None
    embedded = EmbeddedNats(store_dir=store_dir)
    return Bus(embedded=embedded), reason
