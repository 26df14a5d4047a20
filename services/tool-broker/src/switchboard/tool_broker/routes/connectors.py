"""``POST /register``, ``GET /servers/{user_id}``, ``GET /status``: a user's MCP servers and connectors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from switchboard.common.errors import InvalidRequestError
from switchboard.common.events import utc_now
from switchboard.common.mcp_protocol import RegisterRequest
from switchboard.tool_broker.presence import PresenceRecord
from switchboard.tool_broker.registrations import ServerRecord, mcp_tools
from switchboard.tool_broker.request_body import parsed_body
from switchboard.tool_broker.routes import MCP_PREFIX
from switchboard.tool_broker.state import broker_state, caller_of, require_own

__all__ = ["check_tool_count", "router"]

router = APIRouter()


def check_tool_count(count: int, limit: int) -> None:
    if count > limit:
        raise InvalidRequestError(f"tools: {count} tools registered; a server may register at most {limit}.")


@router.post(MCP_PREFIX + "/register")
async def register(request: Request) -> dict[str, Any]:
    state = broker_state(request)
    caller = await caller_of(request)
    body = await parsed_body(request, RegisterRequest, state.settings.max_message_bytes)
    require_own(caller, body.user_id)
    check_tool_count(len(body.tools), state.settings.max_tools_per_server)
    tools = mcp_tools(body.server_id, body.tools)
    record = ServerRecord(user_id=body.user_id, server_id=body.server_id, method=body.method, tools=tools)
    await state.registrations.put(record)
    if body.method == "polling":
        await state.presence.polled(body.user_id, body.server_id)  # it polls next: listed as live from now
    names = [tool.name for tool in tools]
    return {"status": "registered", "server_id": body.server_id, "tools": names, "method": body.method}


@router.get(MCP_PREFIX + "/servers/{user_id}")
async def servers(user_id: str, request: Request) -> dict[str, Any]:
    state = broker_state(request)
    require_own(await caller_of(request), user_id)
    records = await state.registrations.of_user(user_id)
    live = await state.presence.of_user(user_id)
    return {"user_id": user_id, "servers": [_server_view(record, live) for record in records]}


@router.get(MCP_PREFIX + "/status")
async def status(request: Request) -> dict[str, Any]:
    state = broker_state(request)
    caller = await caller_of(request)
    now = utc_now()
    connections = [
        {**record.model_dump(mode="json", exclude={"user_id"}), "healthy": state.presence.healthy(record, now)}
        for record in await state.presence.of_user(caller.user_id)
    ]
    return {"user_id": caller.user_id, "connections": connections}


def _server_view(record: ServerRecord, live: list[PresenceRecord]) -> dict[str, Any]:
    mine = [entry for entry in live if entry.server_id == record.server_id]
    last_seen = max((entry.last_seen for entry in mine), default=None)
    return {
        "server_id": record.server_id,
        "method": record.method,
        "tools": [tool.model_dump(mode="json", exclude={"server_id"}) for tool in record.tools],
        "connections": len(mine),
        "last_seen": last_seen.isoformat() if last_seen else None,
        "registered_at": record.registered_at.isoformat(),
    }
