"""``switchboard events tail`` prints what crosses the bus after it subscribed; ``--json`` one object per line."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys

import nats

from switchboard.cli.events.tail import TailOptions, tail


async def _publish(url: str, subject: str, data: bytes, headers: dict[str, str] | None = None) -> None:
    connection = await nats.connect(url)
    try:
        await connection.publish(subject, data, headers=headers)
        await connection.flush()
    finally:
        await connection.close()


async def test_tail_in_process_prints_messages_published_after_subscribing(nats_url: str) -> None:
    prefix = f"sbt{secrets.token_hex(4)}"
    lines: list[str] = []
    got_two = asyncio.Event()

    def write(text: str) -> None:
        lines.append(text)
        if len(lines) == 2:
            got_two.set()

    stop, ready = asyncio.Event(), asyncio.Event()
    await _publish(nats_url, f"{prefix}.before", b"too early")  # before the subscription: not shown
    task = asyncio.create_task(tail(nats_url, TailOptions(f"{prefix}.>", as_json=True), write, stop, ready))
    await asyncio.wait_for(ready.wait(), timeout=10)
    await _publish(nats_url, f"{prefix}.usage.x", b'{"tokens": 3}', {"Nats-Msg-Id": "evt-1"})
    await _publish(nats_url, f"{prefix}.raw", b"\xff\xfe")
    await _publish(nats_url, "elsewhere.usage.x", b"{}")  # outside the subject: not shown
    await asyncio.wait_for(got_two.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)

    first, second = (json.loads(line) for line in lines)
    assert first["subject"] == f"{prefix}.usage.x"
    assert first["headers"] == {"Nats-Msg-Id": "evt-1"}
    assert (first["size"], first["payload"]) == (13, {"tokens": 3})
    assert (second["subject"], second["size"], second["payload"]) == (f"{prefix}.raw", 2, None)


async def test_events_tail_command_json_and_sigint(nats_url: str) -> None:
    prefix = f"sbt{secrets.token_hex(4)}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SWITCHBOARD_SUBJECT_PREFIX": prefix}  # noqa: TID251 - the child needs the usual environment
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard.cli", "events", "tail", "--json", "--server", nats_url,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stderr.readline(), timeout=20)
        assert f"'{prefix}.>'".encode() in banner, "without SUBJECT it tails every subject under the prefix"
        await _publish(nats_url, f"{prefix}.llm.execute", b'{"request_id": "r1"}')
        line = await asyncio.wait_for(process.stdout.readline(), timeout=10)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), timeout=10)
    assert code == 0
    record = json.loads(line)
    assert (record["subject"], record["payload"]) == (f"{prefix}.llm.execute", {"request_id": "r1"})
