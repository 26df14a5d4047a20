"""The tool-broker as a real process: it answers its ping subject and exits cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path

import pytest
import yaml

from support.bus_probe import ping_service
from support.processes import ServiceProcess, wait_until
from switchboard.cli.embedded_nats import free_port
from switchboard.common.subjects import Subjects

ROOT = Path(__file__).resolve().parents[3]


async def _exit_code(script: str, subject: str, nats_url: str) -> int:
    env = {**os.environ, "NATS_URL": nats_url}  # noqa: TID251 - the probe reads NATS_URL as in its container
    probe = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        subject,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(probe.wait(), timeout=10)


@pytest.fixture
def tool_broker(tmp_path: Path, nats_url: str) -> tuple[ServiceProcess, Subjects]:
    subjects = Subjects(f"sbt{secrets.token_hex(4)}")
    env = {
        "NATS_URL": nats_url,
        "SWITCHBOARD_SUBJECT_PREFIX": subjects.prefix,
        "SWITCHBOARD_TOOL_BROKER_PORT": str(free_port()),  # it serves HTTP too: never the default port in tests
    }
    return ServiceProcess("tool_broker", env, tmp_path / "tool-broker.log"), subjects


async def test_answers_ping_then_stops_on_sigterm(tool_broker: tuple[ServiceProcess, Subjects], nats_url: str) -> None:
    process, subjects = tool_broker
    process.start()
    try:
        answer = await ping_service(nats_url, subjects.ping("tool-broker"))
        assert answer["instance"].startswith("tb_") and answer["connections"] == 0
    finally:
        code = process.stop(timeout=5)
    assert code == 0, process.log()


async def test_compose_healthcheck_command_succeeds(
    tool_broker: tuple[ServiceProcess, Subjects], nats_url: str
) -> None:
    process, subjects = tool_broker
    process.start()
    try:
        await ping_service(nats_url, subjects.ping("tool-broker"))
        healthcheck = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-nats-ping"]
        assert await _exit_code(healthcheck, subjects.ping("tool-broker"), nats_url) == 0
        assert await _exit_code(healthcheck, subjects.ping("nobody"), nats_url) != 0
    finally:
        process.stop(timeout=5)
    wait_until(lambda: not process.running, timeout=1, what="tool-broker to exit")
