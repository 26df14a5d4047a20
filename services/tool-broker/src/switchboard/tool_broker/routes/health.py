"""``GET /api/mcp/health``: unauthenticated liveness, for orchestration and tests."""

from __future__ import annotations

from fastapi import APIRouter, Request

from switchboard.tool_broker.routes import MCP_PREFIX
from switchboard.tool_broker.state import broker_state

__all__ = ["router"]

router = APIRouter()


@router.get(MCP_PREFIX + "/health")
async def health(request: Request) -> dict[str, object]:
    state = broker_state(request)
    return {"status": "ok", "instance": state.instance, "connections": len(state.registry)}
