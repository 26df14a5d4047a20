"""Users' registered MCP servers (``tool_servers_bucket``): which tools each offers and how it is reached.

A registration outlives its connections: a WebSocket connector that reconnects, or a poller that comes back,
finds its tools still there. The last registration of a server wins (tools and method).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import nats.js.errors
from nats.js.kv import KeyValue
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from switchboard.common.events import utc_now
from switchboard.common.mcp_protocol import ToolDefinition, ToolSpec
from switchboard.common.tool_events import McpTool
from switchboard.tool_broker.kv_keys import server_key, user_filter
from switchboard.tool_broker.stores import KeyLister

__all__ = ["Method", "Registrations", "ServerRecord", "mcp_tools"]

Method = Literal["websocket", "polling"]


class ServerRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: str
    server_id: str
    method: Method
    tools: list[McpTool] = Field(default_factory=list)
    registered_at: AwareDatetime = Field(default_factory=utc_now)

    def tool(self, name: str) -> McpTool | None:
        return next((tool for tool in self.tools if tool.name == name), None)


def mcp_tools(server_id: str, specs: Sequence[ToolSpec]) -> list[McpTool]:
    """Tools as registered (a bare name accepts any object); a name given twice keeps its last definition."""
    by_name: dict[str, McpTool] = {}
    for spec in specs:
        definition = ToolDefinition(name=spec) if isinstance(spec, str) else spec
        by_name[definition.name] = McpTool(
            server_id=server_id,
            name=definition.name,
            description=definition.description,
            input_schema=definition.input_schema,
        )
    return list(by_name.values())


class Registrations:
    def __init__(self, kv: KeyValue, lister: KeyLister) -> None:
        self._kv = kv
        self._lister = lister

    async def get(self, user_id: str, server_id: str) -> ServerRecord | None:
        try:
            entry = await self._kv.get(server_key(user_id, server_id))
        except nats.js.errors.KeyNotFoundError:
            return None
        return _parse(entry.value)

    async def put(self, record: ServerRecord) -> None:
        await self._kv.put(server_key(record.user_id, record.server_id), record.model_dump_json().encode())

    async def of_user(self, user_id: str) -> list[ServerRecord]:
        records = [_parse(value) for value in await self._lister.values(user_filter(user_id))]
        return sorted((r for r in records if r is not None and r.user_id == user_id), key=lambda r: r.server_id)


def _parse(value: bytes | None) -> ServerRecord | None:
    try:
        return ServerRecord.model_validate_json(value or b"")
    except ValidationError:
        return None
