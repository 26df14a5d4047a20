"""Where the NATS server and its monitoring endpoint are: flags, then settings, then a running ``switchboard up``."""

from __future__ import annotations

from pathlib import Path

from switchboard.cli.up import MONITOR_URL_FILE, NATS_URL_FILE

__all__ = ["DEFAULT_MONITOR_URL", "MONITOR_URL_FILE", "resolve_monitor_url", "resolve_nats_url"]

DEFAULT_MONITOR_URL = "http://127.0.0.1:8222"


def resolve_nats_url(explicit: str | None, configured: str | None, data_dir: Path, default: str) -> str:
    """``--server``, else ``NATS_URL``, else the server a running ``switchboard up`` started, else the default."""
    if explicit:
        return explicit
    if configured:
        return configured
    return _running(data_dir / NATS_URL_FILE) or default


def resolve_monitor_url(explicit: str | None, data_dir: Path) -> str:
    """``--monitor``, else the monitoring port of a running ``switchboard up``, else NATS's default port 8222."""
    return (explicit or _running(data_dir / MONITOR_URL_FILE) or DEFAULT_MONITOR_URL).rstrip("/")


def _running(state_file: Path) -> str | None:
    return state_file.read_text().strip() or None if state_file.exists() else None
