"""The metering service as a real process: it answers its ping subject and exits cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import nats
import nats.errors

from support.processes import ServiceProcess
from switchboard.common.subjects import Subjects


async def _ping(url: str, subject: str) -> dict[str, Any]:
    """The service's answer, retrying while it is still starting (no responders yet)."""
    connection = await nats.connect(url)
    try:
        for _ in range(150):
            try:
                reply = await connection.request(subject, b"", timeout=2)
            except nats.errors.NoRespondersError:
                await asyncio.sleep(0.1)
                continue
            answer: dict[str, Any] = json.loads(reply.data)
            return answer
    finally:
        await connection.close()
    raise AssertionError(f"nobody answered on {subject}")


async def test_answers_ping_then_stops_on_sigterm(tmp_path: Path, nats_url: str) -> None:
    subjects = Subjects(f"sbt{secrets.token_hex(4)}")
    env = {"NATS_URL": nats_url, "SWITCHBOARD_SUBJECT_PREFIX": subjects.prefix}
    process = ServiceProcess("metering", env, tmp_path / "metering.log")
    process.start()
    try:
        answer = await _ping(nats_url, subjects.ping("metering"))
        assert answer["instance"].startswith("mt_")
    finally:
        code = process.stop(timeout=5)
    assert code == 0, process.log()


async def test_leaves_usage_events_alone(tmp_path: Path, nats_url: str) -> None:
    """Until billing exists, metering must not consume (and so lose) usage facts: it creates no consumer."""
    subjects = Subjects(f"sbt{secrets.token_hex(4)}")
    env = {"NATS_URL": nats_url, "SWITCHBOARD_SUBJECT_PREFIX": subjects.prefix}
    process = ServiceProcess("metering", env, tmp_path / "metering.log")
    process.start()
    try:
        await _ping(nats_url, subjects.ping("metering"))
        connection = await nats.connect(nats_url)
        try:
            names = await connection.jetstream().streams_info()
        finally:
            await connection.close()
        assert subjects.usage_stream not in {stream.config.name for stream in names}
    finally:
        process.stop(timeout=5)
