"""HTTP and WebSocket endpoints of the tool-broker, all under ``/api/mcp``."""

from __future__ import annotations

__all__ = ["MCP_PREFIX"]

MCP_PREFIX = "/api/mcp"
