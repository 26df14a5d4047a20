"""``switchboard tap SUBJECT``: print every message on the bus that matches SUBJECT, until Ctrl-C.

A stand-in for ``nats sub`` on machines without the NATS CLI. It subscribes with core NATS, so it sees what is
published (JetStream publishes included) without creating consumers or acknowledging anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

import nats
import nats.errors
from nats.aio.msg import Msg

from switchboard.cli.up import NATS_URL_FILE

__all__ = ["format_message", "resolve_nats_url", "run_tap"]


def resolve_nats_url(explicit: str | None, configured: str | None, data_dir: Path, default: str) -> str:
    """``--server``, else ``NATS_URL``, else the server a running ``switchboard up`` started, else the default."""
    if explicit:
        return explicit
    if configured:
        return configured
    running = data_dir / NATS_URL_FILE
    if running.exists():
        return running.read_text().strip()
    return default


def _payload_text(data: bytes, max_chars: int) -> str:
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return f"<{len(data)} bytes, not UTF-8>"
    with contextlib.suppress(ValueError):  # not JSON: shown as it is
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    if max_chars and len(text) > max_chars:
        return text[:max_chars] + f"\n… ({len(text) - max_chars} more characters; --max-chars 0 shows all)"
    return text


def format_message(msg: Msg, max_chars: int = 4000, now: datetime | None = None) -> str:
    stamp = (now or datetime.now()).strftime("%H:%M:%S.%f")[:-3]
    lines = [f"--- {stamp} {msg.subject}" + (f"  (reply to {msg.reply})" if msg.reply else "")]
    lines += [f"{name}: {value}" for name, value in (msg.headers or {}).items()]
    lines.append(_payload_text(msg.data, max_chars) if msg.data else "<empty payload>")
    return "\n".join(lines) + "\n"


async def _tap(url: str, subject: str, max_chars: int, out: TextIO) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    async def show(msg: Msg) -> None:
        out.write(format_message(msg, max_chars))
        out.flush()

    async def report(error: Exception) -> None:
        print(f"switchboard tap: {type(error).__name__}: {error}", file=sys.stderr, flush=True)

    servers = [server.strip() for server in url.split(",") if server.strip()]
    connection = await nats.connect(servers, name="switchboard-tap", max_reconnect_attempts=-1, error_cb=report)
    try:
        await connection.subscribe(subject, cb=show)
        await connection.flush()  # the server has the subscription once this returns: nothing is missed after it
        print(f"tapping {subject!r} on {url}; Ctrl-C stops", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        await connection.close()


def run_tap(url: str, subject: str, max_chars: int, out: TextIO = sys.stdout) -> int:
    try:
        asyncio.run(_tap(url, subject, max_chars, out))
    except (OSError, nats.errors.Error) as exc:
        print(f"switchboard tap: cannot reach NATS at {url}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    return 0
