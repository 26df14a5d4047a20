"""Switchboard as the bench runs it: a private NATS and the four services, routed to the fake upstream.

The services run with their production defaults (uvloop, audit log, rate limits, metering) on SQLite, as
``switchboard up`` starts them. The bench key's tier has limits high enough never to block, so the rate-limit
counters stay on the measured path instead of being skipped as for an unlimited tier.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from switchboard.api_gateway.settings import GatewaySettings
from switchboard.cli.embedded_nats import EmbeddedNats, free_port
from switchboard.cli.keys import create_key
from switchboard.cli.supervisor import Child, Supervisor, tail
from switchboard.common.subjects import Subjects

__all__ = ["BENCH_TIER", "SwitchboardStack"]

BENCH_TIER = "bench"
_TIERS = {BENCH_TIER: {"requests_per_minute": 100_000_000, "tokens_per_minute": 10_000_000_000}}
_UPSTREAM_KEY = "sk-bench-upstream"
_HEALTH_TIMEOUT = 60.0


def routing_config(upstream_url: str) -> dict[str, object]:
    """``claude-*`` natively to the fake's Messages API, ``gpt-*`` translated to its Chat Completions API."""
    key = {"api_key_env": "BENCH_UPSTREAM_API_KEY"}
    return {
        "providers": {
            "fake-anthropic": {"type": "anthropic", "base_url": upstream_url, **key},
            "fake-openai": {"type": "openai", "base_url": f"{upstream_url}/v1", **key},
        },
        "model_mapping": {"claude-*": "fake-anthropic", "gpt-*": "fake-openai"},
    }


@dataclass
class SwitchboardStack:
    workdir: Path
    upstream_url: str
    orchestrators: int = 1
    gateway_workers: int = 1
    port: int = field(default_factory=free_port)
    api_key: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    """Added to every service's environment (``bench.compare`` points ``PYTHONPATH`` at another revision)."""
    nats: EmbeddedNats | None = None
    _supervisor: Supervisor | None = None
    _children: dict[str, Child] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def processes(self) -> dict[str, int]:
        """Name → pid of every process of the stack, NATS included."""
        pids = {name: child.process.pid for name, child in self._children.items()}
        if self.nats is not None and self.nats.process is not None:
            pids["nats-server"] = self.nats.process.pid
        return pids

    def service_names(self) -> list[str]:
        return list(self._children)

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.nats = EmbeddedNats(self.workdir / "nats")
        self.nats.start()
        env = self._env(self.nats.url)
        settings = GatewaySettings.model_validate(env)
        self.api_key = asyncio.run(create_key(settings, user_id="bench", name="bench", tier=BENCH_TIER)).secret
        self._supervisor = Supervisor(self.workdir / "logs", grace_seconds=5.0)
        for index in range(self.orchestrators):
            self._start(f"orchestrator-{index + 1}", "orchestrator", env)
        self._start("tool-broker", "tool_broker", env)
        self._start("metering", "metering", env)
        self._start("api-gateway", "api_gateway", env)
        self._wait_healthy()

    def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.stop_all()
        if self.nats is not None:
            self.nats.stop()

    def _start(self, name: str, module: str, env: dict[str, str]) -> None:
        assert self._supervisor is not None
        argv = [sys.executable, "-m", f"switchboard.{module}"]
        self._children[name] = self._supervisor.start(name, argv, env)

    def _env(self, nats_url: str) -> dict[str, str]:
        config = self.workdir / "routes.json"
        config.write_text(json.dumps(routing_config(self.upstream_url)))
        broker_port = free_port()
        return {
            "PATH": os.defpath,
            "HOME": str(self.workdir),
            "NATS_URL": nats_url,
            "SWITCHBOARD_DATA_DIR": str(self.workdir / "data"),
            "SWITCHBOARD_CONFIG": str(config),
            "SWITCHBOARD_GATEWAY_PORT": str(self.port),
            "SWITCHBOARD_GATEWAY_WORKERS": str(self.gateway_workers),
            "SWITCHBOARD_TOOL_BROKER_PORT": str(broker_port),
            "SWITCHBOARD_TOOL_BROKER_URL": f"http://127.0.0.1:{broker_port}",
            "SWITCHBOARD_TIERS": json.dumps(_TIERS),
            "BENCH_UPSTREAM_API_KEY": _UPSTREAM_KEY,
            "SWITCHBOARD_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + _HEALTH_TIMEOUT
        while time.monotonic() < deadline:
            for child in self._children.values():
                if child.process.poll() is not None:
                    raise RuntimeError(f"{child.name} exited; last lines:\n{tail(child.log_path)}")
            try:
                health = httpx.get(f"{self.url}/v1/health", timeout=2.0)
                if health.json().get("status") == "healthy" and self._subscribed_orchestrators() >= self.orchestrators:
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"Switchboard not healthy after {_HEALTH_TIMEOUT} s; logs in {self.workdir / 'logs'}")

    def _subscribed_orchestrators(self) -> int:
        """Connections subscribed to the request subject, from NATS monitoring (health answers with any one)."""
        assert self.nats is not None
        url = f"http://127.0.0.1:{self.nats.monitor_port}/connz?subs=1&limit=1024"
        connections = httpx.get(url, timeout=2.0).json().get("connections") or []
        return sum(1 for c in connections if Subjects().execute_request in (c.get("subscriptions_list") or []))
