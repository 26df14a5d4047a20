"""The tool-broker as a real process: it answers its ping subject and exits cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
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


def compose_healthcheck(service: str, port: int) -> list[str]:
    """The service's healthcheck command in docker-compose.yml, pointed at ``port`` instead of the container's."""
    test: list[str] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][service]["healthcheck"][
        "test"
    ]
    assert test[:2] == ["CMD", "python"], test
    return [sys.executable, *(part.replace(":8090/", f":{port}/") for part in test[2:])]


async def _exit_code(command: list[str]) -> int:
    probe = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
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
        port = int(process.env["SWITCHBOARD_TOOL_BROKER_PORT"])
        assert await _exit_code(compose_healthcheck("tool-broker", port)) == 0
        assert await _exit_code(compose_healthcheck("tool-broker", free_port())) != 0  # nothing listens there
    finally:
        process.stop(timeout=5)
    wait_until(lambda: not process.running, timeout=1, what="tool-broker to exit")
