"""The metering service as a real process: it answers its ping subject and exits cleanly on SIGTERM."""

from __future__ import annotations

import secrets
from pathlib import Path

import nats
import nats.errors

from support.bus_probe import ping_service
from support.processes import ServiceProcess
from switchboard.common.subjects import Subjects


async def test_answers_ping_then_stops_on_sigterm(tmp_path: Path, nats_url: str) -> None:
    subjects = Subjects(f"sbt{secrets.token_hex(4)}")
    env = {"NATS_URL": nats_url, "SWITCHBOARD_SUBJECT_PREFIX": subjects.prefix}
    process = ServiceProcess("metering", env, tmp_path / "metering.log")
    process.start()
    try:
        answer = await ping_service(nats_url, subjects.ping("metering"))
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
        await ping_service(nats_url, subjects.ping("metering"))
        connection = await nats.connect(nats_url)
        try:
            names = await connection.jetstream().streams_info()
        finally:
            await connection.close()
        assert subjects.usage_stream not in {stream.config.name for stream in names}
    finally:
        process.stop(timeout=5)
