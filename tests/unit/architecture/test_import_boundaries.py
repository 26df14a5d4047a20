"""Services share only libs/common and the bus: no service imports another, and common does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SERVICES = {
    "api_gateway": REPO / "services/api-gateway/src/switchboard/api_gateway",
    "orchestrator": REPO / "services/orchestrator/src/switchboard/orchestrator",
    "tool_broker": REPO / "services/tool-broker/src/switchboard/tool_broker",
    "metering": REPO / "services/metering/src/switchboard/metering",
}
COMMON = REPO / "libs/common/src/switchboard/common"
IO_MODULES = {"nats", "faststream", "httpx", "fastapi", "starlette", "sqlalchemy", "asyncpg", "socket", "uvicorn"}


def imported_modules(package: Path) -> set[tuple[Path, str]]:
    found: set[tuple[Path, str]] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found.update((source, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((source, node.module))
    return found


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_never_imports_another_service(service: str) -> None:
    others = {f"switchboard.{name}" for name in SERVICES if name != service} | {"switchboard.cli"}
    offending = [
        f"{source.relative_to(REPO)}: {module}"
        for source, module in imported_modules(SERVICES[service])
        if any(module == other or module.startswith(other + ".") for other in others)
    ]
    assert offending == []


def test_common_holds_contracts_not_behaviour() -> None:
    offending = [
        f"{source.relative_to(REPO)}: {module}"
        for source, module in imported_modules(COMMON)
        if module.split(".")[0] in IO_MODULES
        or (module.startswith("switchboard.") and not module.startswith("switchboard.common"))
    ]
    assert offending == []
