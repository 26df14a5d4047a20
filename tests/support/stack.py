"""The whole request path as real processes: NATS, the fake provider, orchestrators and a gateway."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from fakes.anthropic_provider import FakeAnthropic
from fakes.keycloak import FakeKeycloak
from fakes.openai_provider import FakeOpenAI
from support.processes import ServiceProcess, wait_until
from switchboard.api_gateway.keys.admin import create_api_key
from switchboard.api_gateway.settings import GatewaySettings
from switchboard.cli.embedded_nats import free_port

__all__ = ["Stack", "routes"]


def routes(openai_url: str | None) -> dict[str, Any]:
    """The routing config every test stack runs with; OpenAI-compatible routes when a fake OpenAI is up."""
    providers: dict[str, Any] = {
        "anthropic": {"type": "anthropic", "api_key_env": "ANTHROPIC_UPSTREAM_API_KEY"},
        "demo": {"type": "demo"},
        "unreachable": {
            "type": "anthropic",
            "base_url": "http://127.0.0.1:9",  # discard port: nothing listens, connections are refused
            "api_key_env": "ANTHROPIC_UPSTREAM_API_KEY",
        },
    }
    mapping: dict[str, Any] = {
        "claude-*": "anthropic",
        "alias-sonnet": "anthropic/claude-sonnet-4-5-20250929",
        "demo": "demo",
        "unreachable-*": "unreachable",
    }
    if openai_url is not None:
        openai = {"type": "openai", "base_url": openai_url, "api_key_env": "OPENAI_FAKE_API_KEY"}
        providers |= {"oai": openai, "oai-backup": openai, "oai-slow": {**openai, "read_timeout": 1.0}}
        mapping |= {
            "claude-3-5-sonnet-20241022": "oai/gpt-fake",  # a Claude Code model served by another model
            "gpt-*": "oai",
            "fallback-on-error": ["oai/gpt-fake", "oai-backup/gpt-fake"],
            "fallback-on-timeout": ["oai-slow/gpt-fake", "oai-backup/gpt-fake"],
            "fallback-on-refusal": ["unreachable/claude-x", "oai/gpt-fake"],
        }
    return {"providers": providers, "model_mapping": mapping}


@dataclass
class Stack:
    """One isolated deployment: its own subject prefix, database and processes."""

    workdir: Path
    nats_url: str
    fake: FakeAnthropic
    fake_openai: FakeOpenAI | None = None
    database_url: str | None = None
    nats_monitor_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    keycloak: FakeKeycloak | None = None
    byok_keys: str = field(default_factory=lambda: Fernet.generate_key().decode())
    extra_gateways: list[tuple[int, ServiceProcess]] = field(default_factory=list)
    routing_config: dict[str, Any] | None = None
    """Replaces the standard ``routes(...)`` config when set."""
    prefix: str = field(default_factory=lambda: f"sbt{secrets.token_hex(4)}")
    gateway_port: int = field(default_factory=free_port)
    api_key: str = ""
    key_id: str = ""
    admin_key: str = ""
    user_id: str = "alice"
    gateway: ServiceProcess | None = None
    orchestrators: list[ServiceProcess] = field(default_factory=list)
    tool_broker_port: int = field(default_factory=free_port)
    """Port of the first tool-broker, the one the gateway forwards ``/api/mcp/*`` to."""
    tool_brokers: list[tuple[int, ServiceProcess]] = field(default_factory=list)
    meterings: list[ServiceProcess] = field(default_factory=list)
    orchestrator_ops_ports: list[int] = field(default_factory=list)
    """``SWITCHBOARD_OPS_PORT`` of each orchestrator, in ``orchestrators`` order (``/metrics``, ``/readyz``)."""
    metering_ops_ports: list[int] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def env(self) -> dict[str, str]:
        config = self.workdir / "routes.json"
        standard = routes(self.fake_openai.url if self.fake_openai else None)
        config.write_text(json.dumps(self.routing_config or standard))
        env = {
            "NATS_URL": self.nats_url,
            "SWITCHBOARD_SUBJECT_PREFIX": self.prefix,
            "SWITCHBOARD_DATA_DIR": str(self.workdir),
            "SWITCHBOARD_GATEWAY_PORT": str(self.gateway_port),
            "SWITCHBOARD_CONFIG": str(config),
            "ANTHROPIC_UPSTREAM_URL": self.fake.url,
            "ANTHROPIC_UPSTREAM_API_KEY": self.fake.api_key,
            "SWITCHBOARD_LOG_LEVEL": "WARNING",
            "SWITCHBOARD_TOOL_BROKER_URL": f"http://127.0.0.1:{self.tool_broker_port}",
        }
        if self.fake_openai is not None:
            env["OPENAI_FAKE_API_KEY"] = self.fake_openai.api_key
        if self.keycloak is not None:
            env |= {
                "KEYCLOAK_URL": self.keycloak.url,
                "KEYCLOAK_REALM": self.keycloak.realm,
                "KEYCLOAK_AUDIENCE": self.keycloak.audience,
            }
        env["SWITCHBOARD_BYOK_KEYS"] = self.byok_keys
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return {**env, **self.extra_env}

    def start(self, orchestrators: int = 1) -> None:
        """Start the processes; waits until the gateway reports healthy (or just answers, without orchestrators)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        settings = GatewaySettings.model_validate(self.env())
        # The shared test user is unlimited: rate limits have tests of their own, with free-tier users.
        created = asyncio.run(create_api_key(settings, user_id=self.user_id, name="tests", tier="enterprise"))
        self.api_key, self.key_id = created.secret, created.key_id
        admin = asyncio.run(
            create_api_key(settings, user_id="operator", name="admin", tier="enterprise", is_admin=True)
        )
        self.admin_key = admin.secret
        for _ in range(orchestrators):
            self.add_orchestrator()
        self.gateway = ServiceProcess("api_gateway", self.env(), self.workdir / "logs" / "gateway.log")
        self.gateway.start()
        self.wait_healthy(require_orchestrator=orchestrators > 0)

    def add_orchestrator(self) -> ServiceProcess:
        index = len(self.orchestrators)
        log = self.workdir / "logs" / f"orchestrator-{index}.log"
        ops_port = free_port()
        process = ServiceProcess("orchestrator", {**self.env(), "SWITCHBOARD_OPS_PORT": str(ops_port)}, log)
        process.start()
        self.orchestrators.append(process)
        self.orchestrator_ops_ports.append(ops_port)
        return process

    def add_tool_broker(self) -> str:
        """Start a tool-broker replica (the first on ``tool_broker_port``); returns its URL once it answers."""
        port = free_port() if self.tool_brokers else self.tool_broker_port
        env = {**self.env(), "SWITCHBOARD_TOOL_BROKER_PORT": str(port)}
        process = ServiceProcess("tool_broker", env, self.workdir / "logs" / f"tool-broker-{port}.log")
        process.start()
        self.tool_brokers.append((port, process))
        url = f"http://127.0.0.1:{port}"

        def answering() -> bool:
            if not process.running:
                raise RuntimeError(f"tool-broker exited:\n{process.log()[-3000:]}")
            return _answers(f"{url}/api/mcp/health")

        wait_until(answering, timeout=30, what=f"tool-broker at {url}")
        return url

    def add_metering(self, **env: str) -> ServiceProcess:
        """Start a metering replica (``env`` adds to the stack's, e.g. ``LAGO_API_URL``); it starts consuming."""
        log = self.workdir / "logs" / f"metering-{len(self.meterings)}.log"
        ops_port = free_port()
        process = ServiceProcess("metering", {**self.env(), "SWITCHBOARD_OPS_PORT": str(ops_port), **env}, log)
        process.start()
        self.meterings.append(process)
        self.metering_ops_ports.append(ops_port)
        return process

    def add_gateway(self) -> str:
        """One more gateway replica on its own port; returns its base URL once it is healthy."""
        port = free_port()
        env = {**self.env(), "SWITCHBOARD_GATEWAY_PORT": str(port)}
        process = ServiceProcess("api_gateway", env, self.workdir / "logs" / f"gateway-{port}.log")
        process.start()
        self.extra_gateways.append((port, process))
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(url), timeout=30, what=f"gateway at {url}")
        return url

    def logs(self) -> str:
        """Everything every process of this stack has logged so far."""
        return "".join(path.read_text(errors="replace") for path in (self.workdir / "logs").glob("*.log"))

    def health(self) -> dict[str, object] | None:
        try:
            answer: dict[str, object] = httpx.get(f"{self.base_url}/v1/health", timeout=2).json()
        except httpx.HTTPError:
            return None
        return answer

    def wait_healthy(self, timeout: float = 30.0, *, require_orchestrator: bool = True) -> None:
        def healthy() -> bool:
            if self.gateway is not None and not self.gateway.running:
                raise RuntimeError(f"gateway exited:\n{self.gateway.log()[-3000:]}")
            answer = self.health()
            if answer is None:
                return False
            return answer.get("status") == "healthy" or not require_orchestrator

        wait_until(healthy, timeout=timeout, what=f"gateway health at {self.base_url}")

    def execute_subscribers(self) -> list[dict[str, Any]]:
        """NATS monitoring view of the connections subscribed to this stack's request subject."""
        connections = httpx.get(f"{self.nats_monitor_url}/connz?subs=1&limit=1024", timeout=5).json()["connections"]
        subject = f"{self.prefix}.llm.execute"
        return [c for c in connections or [] if subject in (c.get("subscriptions_list") or [])]

    def stop(self) -> None:
        gateways = [process for _, process in self.extra_gateways]
        brokers = [process for _, process in self.tool_brokers]
        gateway = [self.gateway] if self.gateway else []
        for process in [*self.orchestrators, *gateway, *gateways, *brokers, *self.meterings]:
            process.stop()


def _healthy(url: str) -> bool:
    try:
        return bool(httpx.get(f"{url}/v1/health", timeout=2).json().get("status") == "healthy")
    except (httpx.HTTPError, ValueError):
        return False


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == httpx.codes.OK
    except httpx.HTTPError:
        return False
