"""``python -m switchboard.cli tap`` shows what crosses the bus and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys

import nats


async def test_tap_prints_subject_headers_and_payload(nats_url: str) -> None:
    prefix = f"sbt{secrets.token_hex(4)}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # noqa: TID251 - the child needs the usual environment
    tap = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard.cli", "tap", f"{prefix}.>", "--server", nats_url,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert tap.stderr is not None
        assert tap.stdout is not None
        banner = await asyncio.wait_for(tap.stderr.readline(), timeout=20)
        assert b"tapping" in banner

        connection = await nats.connect(nats_url)
        try:
            await connection.publish(f"{prefix}.usage.test", b'{"tokens": 3}', headers={"Nats-Msg-Id": "evt-1"})
            await connection.flush()
        finally:
            await connection.close()

        lines = [(await asyncio.wait_for(tap.stdout.readline(), timeout=10)).decode() for _ in range(5)]
    finally:
        if tap.returncode is None:
            tap.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(tap.wait(), timeout=10)
    assert code == 0
    assert lines[0].rstrip().endswith(f"{prefix}.usage.test")
    assert lines[1] == "Nats-Msg-Id: evt-1\n"
    assert "".join(lines[2:]) == '{\n  "tokens": 3\n}\n'
