"""``switchboard events tail [SUBJECT]``: print every message on the bus that matches SUBJECT, until Ctrl-C.

A stand-in for ``nats sub`` on machines without the NATS CLI. It subscribes with core NATS, so it sees what is
published (JetStream publishes included) without creating consumers or acknowledging anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import nats
import nats.errors
from nats.aio.msg import Msg

__all__ = ["TailOptions", "format_json", "format_message", "run_tail", "tail"]


@dataclass(frozen=True, slots=True)
class TailOptions:
    subject: str
    max_chars: int = 4000
    """Cut payloads longer than this in the text form (0: never); ``--json`` always carries whole payloads."""
    as_json: bool = False


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


def _payload_value(data: bytes) -> Any:
    """The payload as JSON when it is JSON, else as text, else ``None`` (the size still says it was there)."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def format_json(msg: Msg, now: datetime | None = None) -> str:
    """One line of JSON per message, for ``jq`` and scripts."""
    record = {
        "time": (now or datetime.now().astimezone()).isoformat(),
        "subject": msg.subject,
        "reply": msg.reply or None,
        "headers": dict(msg.headers or {}),
        "size": len(msg.data),
        "payload": _payload_value(msg.data) if msg.data else None,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


async def tail(
    url: str,
    options: TailOptions,
    write: Callable[[str], None],
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    """Write each message matching ``options.subject`` until ``stop`` is set; ``ready`` once nothing is missed."""

    async def show(msg: Msg) -> None:
        write(format_json(msg) if options.as_json else format_message(msg, options.max_chars))

    async def report(error: Exception) -> None:
        print(f"switchboard events tail: {type(error).__name__}: {error}", file=sys.stderr, flush=True)

    servers = [server.strip() for server in url.split(",") if server.strip()]
    connection = await nats.connect(servers, name="switchboard-tail", max_reconnect_attempts=-1, error_cb=report)
    try:
        await connection.subscribe(options.subject, cb=show)
        await connection.flush()  # the server has the subscription once this returns: nothing is missed after it
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        await connection.close()


async def _tail_until_signal(url: str, options: TailOptions, out: TextIO) -> None:
    stop, ready = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def write(text: str) -> None:
        out.write(text)
        out.flush()

    async def announce() -> None:
        await ready.wait()
        print(f"tapping {options.subject!r} on {url}; Ctrl-C stops", file=sys.stderr, flush=True)

    announcing = asyncio.create_task(announce())
    try:
        await tail(url, options, write, stop, ready)
    finally:
        announcing.cancel()


def run_tail(url: str, options: TailOptions, out: TextIO = sys.stdout) -> int:
    try:
        asyncio.run(_tail_until_signal(url, options, out))
    except (OSError, nats.errors.Error) as exc:
        print(f"switchboard events tail: cannot reach NATS at {url}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    return 0
