"""What the end-to-end MCP tests share: the agents configured, the model, and starting connectors."""

from __future__ import annotations

import time
from typing import Any

from support.connectors import ConnectorProcess
from support.stack import Stack, routes

__all__ = ["AGENTS", "MODEL", "connector", "mcp_routing_config"]

MODEL = "claude-opus-5"
AGENTS = {
    "notes-agent": {"model": MODEL, "aliases": ["switchboard-notes"]},
    "impatient": {"tool_timeout": 1},
}


def mcp_routing_config() -> dict[str, Any]:
    """The standard test routes plus the agents above."""
    return {**routes(None), "agent_config": AGENTS}


def connector(
    stack: Stack, server_id: str, command: list[str], *, base_url: str | None = None, **options: Any
) -> ConnectorProcess:
    """A started ``switchboard connect`` for ``stack``'s user (through the gateway unless ``base_url`` says)."""
    log = stack.workdir / "logs" / f"connector-{server_id}-{time.monotonic_ns()}.log"
    url = base_url or stack.base_url
    return ConnectorProcess(url, stack.api_key, server_id, command, log, **options).start()
