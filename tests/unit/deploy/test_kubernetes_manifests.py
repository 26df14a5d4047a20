"""deploy/kubernetes rendered like `kubectl apply -k`, validated offline against the Kubernetes schemas."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from .conftest import KUBERNETES, ROOT, Manifest

KUBERNETES_VERSION = "1.30.0"
SERVICES = ("api-gateway", "orchestrator", "tool-broker", "metering")
# (port name, port, liveness path, readiness path) each service's pods answer on.
ENDPOINTS = {
    "api-gateway": ("http", 8080, "/", "/v1/health"),
    "orchestrator": ("ops", 9090, "/livez", "/readyz"),
    "tool-broker": ("http", 8090, "/api/mcp/health", "/api/mcp/health"),
    "metering": ("ops", 9090, "/livez", "/readyz"),
}


def find(rendered: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [item for item in rendered if item["kind"] == kind and item["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def only_container(deployment: Manifest) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def documented_variables() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, re.MULTILINE))


def test_every_object_is_valid_for_kubernetes_strictly(rendered: list[Manifest]) -> None:
    assert len(rendered) > 20
    for manifest in rendered:
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{manifest['kind']}/{manifest['metadata']['name']}: {error.message} at {list(error.path)}")


def test_a_misspelt_field_is_refused_by_the_schema(rendered: list[Manifest]) -> None:
    broken = yaml.safe_load(yaml.safe_dump(find(rendered, "Deployment", "api-gateway")))
    only_container(broken)["readinesProbe"] = only_container(broken).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_deployment_service_autoscaler_and_disruption_budget(
    rendered: list[Manifest], service: str
) -> None:
    deployment = find(rendered, "Deployment", service)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"

    port_name, port, _, _ = ENDPOINTS[service]
    assert {"name": port_name, "containerPort": port, "protocol": "TCP"} in only_container(deployment)["ports"]
    selector = find(rendered, "Service", service)["spec"]
    assert selector["selector"].items() <= pod_labels.items()
    assert [entry["targetPort"] for entry in selector["ports"]] == [port_name]

    autoscaler = find(rendered, "HorizontalPodAutoscaler", service)["spec"]
    assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]
    assert [metric["resource"]["name"] for metric in autoscaler["metrics"]] == ["cpu"]

    budget = find(rendered, "PodDisruptionBudget", service)["spec"]
    assert budget["selector"]["matchLabels"].items() <= pod_labels.items()
    assert budget["maxUnavailable"] < autoscaler["minReplicas"]


@pytest.mark.parametrize("service", SERVICES)
def test_probes_and_metrics_use_the_ports_the_service_serves(rendered: list[Manifest], service: str) -> None:
    deployment = find(rendered, "Deployment", service)
    container = only_container(deployment)
    port_name, port, liveness, readiness = ENDPOINTS[service]
    assert container["livenessProbe"]["httpGet"] == {"path": liveness, "port": port_name}
    assert container["readinessProbe"]["httpGet"] == {"path": readiness, "port": port_name}
    assert container["startupProbe"]["httpGet"]["port"] == port_name
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }
    environment = {entry["name"]: entry.get("value") for entry in container["env"]}
    if port_name == "ops":
        assert environment["SWITCHBOARD_OPS_PORT"] == str(port)


def test_every_workload_container_has_probes_resources_and_runs_unprivileged(rendered: list[Manifest]) -> None:
    workloads = [item for item in rendered if item["kind"] in {"Deployment", "StatefulSet"}]
    assert {item["metadata"]["name"] for item in workloads} == {*SERVICES, "postgres"}
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{workload['metadata']['name']} has no {probe}"
            assert set(container["resources"]) == {"requests", "limits"}
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"] == {"drop": ["ALL"]}


def test_services_read_only_documented_settings_from_env_config_and_secrets(rendered: list[Manifest]) -> None:
    documented = documented_variables()
    assert {"NATS_URL", "DATABASE_URL", "LAGO_API_KEY"} <= documented, "the docs table parser broke"
    used = set(find(rendered, "ConfigMap", "switchboard-config")["data"])
    used |= set(find(rendered, "Secret", "switchboard-secrets")["stringData"])
    for service in SERVICES:
        container = only_container(find(rendered, "Deployment", service))
        assert container["envFrom"] == [{"configMapRef": {"name": "switchboard-config"}}]
        for entry in container["env"]:
            used.add(entry["name"])
            if reference := entry.get("valueFrom", {}).get("secretKeyRef"):
                assert reference["name"] == "switchboard-secrets"
                used.add(reference["key"])
    assert used - documented == set(), "not in docs/configuration.md"


def test_secrets_are_not_in_the_config_map(rendered: list[Manifest]) -> None:
    config = find(rendered, "ConfigMap", "switchboard-config")["data"]
    for name in config:
        assert not re.search(r"_KEYS?$|DATABASE_URL|PASSWORD|TOKEN", name), f"{name} belongs in the Secret"


def test_every_image_is_named_once_with_one_tag(rendered: list[Manifest]) -> None:
    images = {
        item["metadata"]["name"]: only_container(item)["image"] for item in rendered if item["kind"] == "Deployment"
    }
    tags = {image.rpartition(":")[2] for image in images.values()}
    assert len(tags) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", tags.pop())
    for service, image in images.items():
        assert image.rpartition(":")[0] == f"ghcr.io/switchboard/{service}"
    for item in rendered:
        assert item["metadata"].get("namespace", "switchboard") == "switchboard"


def ingress_backend(rendered: list[Manifest], path: str) -> str | None:
    """The Service an Ingress routes `path` to: the longest matching Prefix, or an Exact match, as Kubernetes does."""
    matches: list[tuple[int, int, str]] = []
    for rule in find(rendered, "Ingress", "switchboard")["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            prefix, backend = entry["path"], entry["backend"]["service"]["name"]
            if entry["pathType"] == "Exact" and path == prefix:
                matches.append((1, len(prefix), backend))
            elif entry["pathType"] == "Prefix" and (prefix == "/" or path == prefix or path.startswith(prefix + "/")):
                matches.append((0, len(prefix), backend))
    return max(matches)[2] if matches else None


def test_the_ingress_routes_the_apis_but_never_metrics(rendered: list[Manifest]) -> None:
    assert ingress_backend(rendered, "/v1/messages") == "api-gateway"
    assert ingress_backend(rendered, "/api/v1/api-keys") == "api-gateway"
    assert ingress_backend(rendered, "/") == "api-gateway"
    assert ingress_backend(rendered, "/api/mcp/ws/alice") == "tool-broker"
    for path in ("/metrics", "/metrics/gateway"):
        assert ingress_backend(rendered, path) is None


def test_nats_chart_values_run_jetstream_on_disk_with_nats_2_12_or_newer() -> None:
    values: dict[str, Any] = yaml.safe_load((KUBERNETES / "nats" / "values.yaml").read_text())
    major, minor = (int(part) for part in re.findall(r"^(\d+)\.(\d+)", values["container"]["image"]["tag"])[0])
    assert (major, minor) >= (2, 12)
    jetstream = values["config"]["jetstream"]
    assert jetstream["enabled"] is True
    assert jetstream["fileStore"]["pvc"]["enabled"] is True
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    readme = (ROOT / "deploy" / "README.md").read_text()
    assert "helm install nats nats/nats" in readme and "deploy/kubernetes/nats/values.yaml" in readme
