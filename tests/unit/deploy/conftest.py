"""Renders deploy/kubernetes the way `kubectl apply -k` would, for the subset of kustomize the manifests use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAY = KUBERNETES / "overlays" / "example"
# Anything else (patches, generators, ...) would be silently skipped by this renderer, so it is refused instead.
SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "images", "namespace"}
CLUSTER_SCOPED = {"Namespace"}

Manifest = dict[str, Any]


def render(directory: Path) -> list[Manifest]:
    """Objects of the kustomization in `directory`: its resources (files or kustomizations), images, namespace."""
    kustomization: dict[str, Any] = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - SUPPORTED_KEYS
    assert not unsupported, f"{directory}: teach tests/unit/deploy/conftest.py to render {sorted(unsupported)}"
    objects: list[Manifest] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            objects += render(path)
        else:
            objects += [document for document in yaml.safe_load_all(path.read_text()) if document]
    for image in kustomization.get("images", []):
        for container in _containers(objects):
            _retag(container, image)
    if namespace := kustomization.get("namespace"):
        for manifest in objects:
            if manifest["kind"] not in CLUSTER_SCOPED:
                manifest["metadata"]["namespace"] = namespace
    return objects


def _containers(objects: list[Manifest]) -> list[dict[str, Any]]:
    pod_specs = [manifest["spec"]["template"]["spec"] for manifest in objects if "template" in manifest.get("spec", {})]
    return [container for spec in pod_specs for container in spec["containers"] + spec.get("initContainers", [])]


def _retag(container: dict[str, Any], image: dict[str, str]) -> None:
    name, _, _ = container["image"].partition(":")
    if name == image["name"]:
        container["image"] = f"{image.get('newName', name)}:{image['newTag']}"


@pytest.fixture(scope="module")
def rendered() -> list[Manifest]:
    return render(OVERLAY)
