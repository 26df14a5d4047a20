"""``switchboard connect`` as a real child process, and what the broker says about a user's connectors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from support.processes import wait_until

__all__ = ["NOTES_SERVER", "ConnectorProcess", "live_connections"]

NOTES_SERVER = [sys.executable, str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_notes_server.py")]
"""The small MCP server (stdio) the tests bridge."""


def live_connections(base_url: str, api_key: str, server_id: str | None = None) -> list[dict[str, Any]]:
    """The caller's connections as ``GET /api/mcp/status`` reports them (optionally of one server)."""
    answer = httpx.get(f"{base_url}/api/mcp/status", headers={"x-api-key": api_key}, timeout=5)
    answer.raise_for_status()
    connections: list[dict[str, Any]] = answer.json()["connections"]
    return [c for c in connections if server_id is None or c["server_id"] == server_id]


@dataclass
class ConnectorProcess:
    """One ``switchboard connect`` bridging ``command`` (an MCP server over stdio) to ``base_url``."""

    base_url: str
    api_key: str
    server_id: str
    command: Sequence[str]
    log_path: Path
    poll: bool = False
    extra_args: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ConnectorProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "switchboard.cli", "connect", "--url", self.base_url, "--key", self.api_key]
        args += ["--server-id", self.server_id, *(["--poll"] if self.poll else []), *self.extra_args]
        env = {**os.environ, "SWITCHBOARD_LOG_LEVEL": "INFO"}  # noqa: TID251 - the child inherits ours
        with self.log_path.open("ab") as log:
            # Own process group, so that a kill reaches only this connector (its MCP server then sees stdin close).
            self.process = subprocess.Popen(
                [*args, "--", *self.command], stdout=log, stderr=log, env=env, start_new_session=True
            )
        return self

    def wait_registered(self, count: int = 1, timeout: float = 30.0) -> None:
        def registered() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"connector exited:\n{self.log()[-3000:]}")
            return len(live_connections(self.base_url, self.api_key, self.server_id)) >= count

        wait_until(registered, timeout=timeout, what=f"connector for {self.server_id} registered", interval=0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the connector and its MCP server: a machine that vanished mid-call."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
