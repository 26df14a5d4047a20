"""``switchboard up --demo`` end to end: the whole stack starts, serves the demo model and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import sys
from pathlib import Path

import httpx

from switchboard.cli.embedded_nats import free_port

READY = re.compile(r"export ANTHROPIC_AUTH_TOKEN=(\S+)")


class RunningUp:
    """One ``python -m switchboard.cli up`` process and what it printed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []

    async def wait_for_key(self, timeout: float = 40) -> str:
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            while line := (await self.process.stdout.readline()).decode():
                self.output.append(line)
                if match := READY.search(line):
                    return match.group(1)
        raise AssertionError("`up` ended before it was ready:\n" + "".join(self.output))

    def child_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"\(pid (\d+)\)", "".join(self.output))]

    async def stop(self, signum: signal.Signals) -> int:
        self.process.send_signal(signum)
        async with asyncio.timeout(30):
            rest, _ = await self.process.communicate()
        self.output.append(rest.decode())
        assert self.process.returncode is not None
        return self.process.returncode


async def _start(data_dir: Path, port: int) -> RunningUp:
    env = {k: v for k, v in os.environ.items() if k != "NATS_URL"}  # noqa: TID251 - force the embedded server
    env.update(PYTHONUNBUFFERED="1", SWITCHBOARD_LOG_LEVEL="WARNING")
    command = [
        sys.executable,
        "-m",
        "switchboard.cli",
        "up",
        "--demo",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    return RunningUp(process)


async def _mcp_status(client: httpx.AsyncClient, key: str) -> object:
    """``GET /api/mcp/status``, retried while the tool-broker (not part of /v1/health) is still starting."""
    for _ in range(100):
        answer = await client.get("/api/mcp/status", headers={"x-api-key": key})
        if answer.status_code != 529:  # overloaded: the broker is not up yet
            assert answer.status_code == 200, answer.text
            return answer.json()
        await asyncio.sleep(0.1)
    raise AssertionError(f"the tool-broker never answered: {answer.text}")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_up_serves_the_demo_model_and_stops_everything(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "state", free_port()
    first = await _start(data_dir, port)
    try:
        key = await first.wait_for_key()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            reply = await client.post(
                "/v1/messages",
                headers={"authorization": f"Bearer {key}", "anthropic-version": "2023-06-01"},
                json={"model": "demo", "max_tokens": 32, "messages": [{"role": "user", "content": "hi"}]},
            )
            assert reply.status_code == 200, reply.text
            assert reply.json()["content"][0]["type"] == "text"
            # Connectors use the same URL: the gateway forwards /api/mcp/* to the tool-broker it started.
            status = await _mcp_status(client, key)
        assert status == {"user_id": "local", "connections": []}
        key_file = data_dir / "local-api-key"
        assert key_file.read_text().strip() == key
        # `switchboard events inspect` finds the embedded server's monitoring endpoint through this file.
        monitor = (data_dir / "nats-monitor-url").read_text().strip()
        async with httpx.AsyncClient(timeout=10) as monitoring:
            assert (await monitoring.get(f"{monitor}/varz")).json()["jetstream"]["config"]
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    finally:
        code = await first.stop(signal.SIGINT)
    assert code == 0, "".join(first.output)
    assert len(first.child_pids()) == 4
    assert all(_gone(pid) for pid in first.child_pids())
    assert not (data_dir / "nats-url").exists()
    assert not (data_dir / "nats-monitor-url").exists()

    second = await _start(data_dir, port)
    try:
        assert await second.wait_for_key() == key, "a later start prints the same local key"
    finally:
        assert await second.stop(signal.SIGTERM) == 0, "".join(second.output)
