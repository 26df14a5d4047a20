"""The user's MCP tools as the model sees them: Anthropic tool definitions named ``mcp__<server_id>__<tool>``.

Names must match ``^[a-zA-Z0-9_-]{1,128}$``: other characters become ``_`` and an over-long or colliding name gets
a short digest of its origin, so each name maps back to exactly one (server, tool). The definitions are sorted,
which keeps the tool list, and with it the provider's prompt cache, stable from one request to the next.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from switchboard.common.tool_events import McpTool

__all__ = ["MCP_PREFIX", "McpToolRef", "ToolCatalog", "client_tool_names", "namespaced_name"]

logger = logging.getLogger(__name__)

MCP_PREFIX = "mcp__"
MAX_NAME_LENGTH = 128
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
_DIGEST_LENGTH = 8


@dataclass(frozen=True, slots=True)
class McpToolRef:
    """Where a namespaced name leads: the connector's server id and the tool's own name there."""

    server_id: str
    name: str


def namespaced_name(server_id: str, tool: str) -> str:
    """``mcp__<server_id>__<tool>``, made a valid tool name."""
    name = _UNSAFE.sub("_", f"{MCP_PREFIX}{server_id}__{tool}")
    return name if len(name) <= MAX_NAME_LENGTH else _with_digest(name, server_id, tool)


def _with_digest(name: str, server_id: str, tool: str) -> str:
    digest = hashlib.sha256(f"{server_id}\0{tool}".encode()).hexdigest()[:_DIGEST_LENGTH]
    return f"{name[: MAX_NAME_LENGTH - _DIGEST_LENGTH - 1]}_{digest}"


def client_tool_names(payload: dict[str, Any]) -> set[str]:
    tools = payload.get("tools")
    if not isinstance(tools, list):
        return set()
    return {tool["name"] for tool in tools if isinstance(tool, dict) and isinstance(tool.get("name"), str)}


class ToolCatalog:
    """The MCP tools offered in one request, filtered by the agent's patterns, and the way back from a name."""

    def __init__(self, tools: Iterable[McpTool], patterns: Sequence[str], reserved: Collection[str] = ()) -> None:
        self._refs: dict[str, McpToolRef] = {}
        self.definitions: list[dict[str, Any]] = []
        for tool in sorted(tools, key=lambda item: (item.server_id, item.name)):
            name = namespaced_name(tool.server_id, tool.name)
            if not any(fnmatchcase(name, pattern) for pattern in patterns):
                continue
            if name in reserved:
                # The client has a tool of that name (Claude Code names its own MCP tools the same way): theirs wins.
                logger.debug("MCP tool %s is hidden by the client's own tool of the same name", name)
                continue
            if name in self._refs:
                name = _with_digest(name, tool.server_id, tool.name)
            self._refs[name] = McpToolRef(tool.server_id, tool.name)
            self.definitions.append(_definition(name, tool))

    def resolve(self, name: object) -> McpToolRef | None:
        """The MCP tool behind a tool_use name; ``None`` for the client's own tools."""
        return self._refs.get(name) if isinstance(name, str) else None

    def hides(self, block: dict[str, Any]) -> bool:
        """Whether a content block stays inside the orchestrator: a ``tool_use`` of an MCP tool."""
        return block.get("type") == "tool_use" and self.resolve(block.get("name")) is not None


def _definition(name: str, tool: McpTool) -> dict[str, Any]:
    schema = dict(tool.input_schema)
    schema.setdefault("type", "object")  # Anthropic requires an object schema; MCP servers sometimes omit it
    definition: dict[str, Any] = {"name": name, "input_schema": schema}
    if tool.description:
        definition["description"] = tool.description
    return definition
