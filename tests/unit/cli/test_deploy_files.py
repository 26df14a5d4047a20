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
        # No API port: the ops server answers readiness on the port its environment names.
        port = spec["environment"]["SWITCHBOARD_OPS_PORT"]
        assert f"http://127.0.0.1:{port}/readyz" in test[-1]


def test_one_public_port_routes_mcp_to_the_broker_and_the_rest_to_the_gateway(compose: dict[str, Any]) -> None:
    edge = compose["services"]["edge"]
    assert edge["ports"][0] == "127.0.0.1:8080:8080"
    assert [name for name, spec in compose["services"].items() if "ports" in spec] == ["edge"]
    broker = compose["services"]["tool-broker"]["labels"]
    gateway = compose["services"]["api-gateway"]["labels"]
    assert broker["traefik.http.routers.tool-broker.rule"] == "PathPrefix(`/api/mcp`)"
    assert gateway["traefik.http.routers.gateway.rule"] == "PathPrefix(`/`) && !PathPrefix(`/metrics`)"
    for router in ("", "-https"):
        assert int(broker[f"traefik.http.routers.tool-broker{router}.priority"]) > int(
            gateway[f"traefik.http.routers.gateway{router}.priority"]
        )
    port = compose["services"]["tool-broker"]["environment"]["SWITCHBOARD_TOOL_BROKER_PORT"]
    assert broker["traefik.http.services.tool-broker.loadbalancer.server.port"] == port
    assert "/api/mcp/health" in " ".join(compose["services"]["tool-broker"]["healthcheck"]["test"])


def test_https_entrypoint_with_lets_encrypt_and_a_redirect_from_http(compose: dict[str, Any]) -> None:
    edge = compose["services"]["edge"]
    flags = dict(flag.split("=", 1) for flag in edge["command"] if "=" in flag)
    assert flags["--entrypoints.web.address"] == ":8080", "the local plain-HTTP entry stays"
    assert flags["--entrypoints.websecure.address"] == ":443"
    assert flags["--entrypoints.http.address"] == ":80"
    assert flags["--entrypoints.http.http.redirections.entrypoint.to"] == "websecure"
    assert flags["--entrypoints.http.http.redirections.entrypoint.scheme"] == "https"
    assert flags["--certificatesresolvers.letsencrypt.acme.email"] == "${ACME_EMAIL:-}"
    assert flags["--certificatesresolvers.letsencrypt.acme.tlschallenge"] == "true"
    storage = flags["--certificatesresolvers.letsencrypt.acme.storage"]
    assert any(volume.endswith(":" + storage.rpartition("/")[0]) for volume in edge["volumes"]), "certificates persist"
    # Only loopback unless the operator opts in to exposing 80 and 443.
    assert edge["ports"][1:] == [f"${{SWITCHBOARD_PUBLIC_ADDRESS:-127.0.0.1}}:{port}:{port}" for port in (80, 443)]


@pytest.mark.parametrize(("service", "router", "path_rule"), [
    ("api-gateway", "gateway-https", "!PathPrefix(`/metrics`)"),
    ("tool-broker", "tool-broker-https", "PathPrefix(`/api/mcp`)"),
])  # fmt: skip
def test_https_routers_serve_the_domain_with_a_certificate(
    compose: dict[str, Any], service: str, router: str, path_rule: str
) -> None:
    labels = compose["services"][service]["labels"]
    prefix = f"traefik.http.routers.{router}"
    assert labels[f"{prefix}.rule"] == f"Host(`${{SWITCHBOARD_DOMAIN:-localhost}}`) && {path_rule}"
    assert labels[f"{prefix}.entrypoints"] == "websecure"
    assert labels[f"{prefix}.tls.certresolver"] == "letsencrypt"
    assert labels[f"{prefix}.service"] == router.removesuffix("-https")


def test_metrics_are_never_routed_by_the_edge(compose: dict[str, Any]) -> None:
    for service in ("api-gateway", "tool-broker"):
        rules = [value for key, value in compose["services"][service]["labels"].items() if key.endswith(".rule")]
        assert len(rules) == 2
        for rule in rules:
            # A rule reaches /metrics unless it excludes it or only matches /api/mcp.
            assert "!PathPrefix(`/metrics`)" in rule or "PathPrefix(`/api/mcp`)" in rule


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
