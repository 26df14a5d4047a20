"""docker-compose.yml and the Dockerfiles can't be run here (no Docker engine), so check their shape."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SERVICES = {
    "api-gateway": "api_gateway",
    "orchestrator": "orchestrator",
    "tool-broker": "tool_broker",
    "metering": "metering",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_infrastructure_is_nats_with_jetstream_and_postgres(compose: dict[str, Any]) -> None:
    nats = compose["services"]["nats"]
    major, minor = (int(part) for part in re.findall(r"nats:(\d+)\.(\d+)-alpine", nats["image"])[0])
    assert (major, minor) >= (2, 12)
    assert "-js" in nats["command"]
    assert "js-enabled-only=true" in " ".join(nats["healthcheck"]["test"])
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(compose["services"]["postgres"]["healthcheck"]["test"])


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_is_built_configured_by_env_and_health_checked(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    assert spec["build"] == {"context": ".", "dockerfile": f"services/{service}/Dockerfile"}
    assert (ROOT / spec["build"]["dockerfile"]).exists()
    allowed = {"build", "environment", "labels", "depends_on", "healthcheck", "restart"}
    assert set(spec) <= allowed, "env-only config; the edge router owns the public port"
    assert spec["environment"]["NATS_URL"] == "nats://nats:4222"
    assert spec["depends_on"]["nats"] == {"condition": "service_healthy"}
    test = spec["healthcheck"]["test"]
    assert test[0] == "CMD"
    if service in {"orchestrator", "metering"}:
        assert test[-1] == f"switchboard.{service}.ping"


def test_one_public_port_routes_mcp_to_the_broker_and_the_rest_to_the_gateway(compose: dict[str, Any]) -> None:
    edge = compose["services"]["edge"]
    assert edge["ports"] == ["127.0.0.1:8080:8080"]
    assert [name for name, spec in compose["services"].items() if "ports" in spec] == ["edge"]
    broker = compose["services"]["tool-broker"]["labels"]
    gateway = compose["services"]["api-gateway"]["labels"]
    assert broker["traefik.http.routers.tool-broker.rule"] == "PathPrefix(`/api/mcp`)"
    assert gateway["traefik.http.routers.gateway.rule"] == "PathPrefix(`/`)"
    assert int(broker["traefik.http.routers.tool-broker.priority"]) > int(
        gateway["traefik.http.routers.gateway.priority"]
    )
    port = compose["services"]["tool-broker"]["environment"]["SWITCHBOARD_TOOL_BROKER_PORT"]
    assert broker["traefik.http.services.tool-broker.loadbalancer.server.port"] == port
    assert "/api/mcp/health" in " ".join(compose["services"]["tool-broker"]["healthcheck"]["test"])


def test_gateway_uses_postgres_and_listens_on_all_interfaces(compose: dict[str, Any]) -> None:
    gateway = compose["services"]["api-gateway"]
    assert gateway["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert gateway["environment"]["SWITCHBOARD_GATEWAY_HOST"] == "0.0.0.0"
    assert gateway["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "/v1/health" in " ".join(gateway["healthcheck"]["test"])
    assert "${ANTHROPIC_UPSTREAM_API_KEY" in (ROOT / "docker-compose.yml").read_text()


@pytest.mark.parametrize(("service", "package"), sorted(SERVICES.items()))
def test_dockerfile_installs_only_its_service_and_runs_it_unprivileged(service: str, package: str) -> None:
    dockerfile = (ROOT / "services" / service / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert f"uv sync --frozen --no-dev --no-editable --package switchboard-{service}" in dockerfile
    assert re.search(r"^USER switchboard$", dockerfile, re.MULTILINE)
    assert f'CMD ["python", "-m", "switchboard.{package}"]' in dockerfile
    assert importlib.util.find_spec(f"switchboard.{package}") is not None
    exposed = {"api-gateway": "EXPOSE 8080", "tool-broker": "EXPOSE 8090"}
    assert re.findall(r"^EXPOSE .*$", dockerfile, re.MULTILINE) == ([exposed[service]] if service in exposed else [])


def test_dockerignore_keeps_local_state_out_of_images() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".switchboard"):
        assert entry in ignored
