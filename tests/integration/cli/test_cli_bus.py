"""``switchboard up`` uses NATS_URL only if it points at NATS >= 2.12 with JetStream."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.processes import wait_until
from switchboard.cli.bus import choose_bus, unfit_reason
from switchboard.cli.embedded_nats import find_nats_server, free_port


@pytest.fixture
def nats_without_jetstream() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(find_nats_server()), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_a_jetstream_server_is_fit(nats_url: str) -> None:
    assert await unfit_reason(nats_url) is None


async def test_nothing_listening_is_unfit() -> None:
    reason = await unfit_reason(f"nats://127.0.0.1:{free_port()}", timeout=1)
    assert reason is not None
    assert reason.startswith("cannot connect")


async def test_a_server_without_jetstream_is_unfit(nats_without_jetstream: str) -> None:
    reason = None

    async def probe() -> bool:
        nonlocal reason
        reason = await unfit_reason(nats_without_jetstream, timeout=1)
        return reason is not None and not reason.startswith("cannot connect")

    for _ in range(50):  # the server takes a moment to listen
        if await probe():
            break
    assert reason is not None
    assert "JetStream" in reason


def test_choose_bus_prefers_a_fit_configured_server(nats_url: str, tmp_path: Path) -> None:
    bus, passed_over = choose_bus(nats_url, tmp_path / "nats")
    assert (bus.url, bus.embedded, passed_over) == (nats_url, None, None)


def test_choose_bus_falls_back_to_an_embedded_server(tmp_path: Path) -> None:
    bus, passed_over = choose_bus(f"nats://127.0.0.1:{free_port()}", tmp_path / "nats")
    assert passed_over is not None
    assert bus.embedded is not None
    bus.start()
    try:
        process = bus.embedded.process
        assert process is not None
        assert process.poll() is None
    finally:
        bus.close()
    wait_until(lambda: process.poll() is not None, timeout=5, what="embedded nats-server to stop")
