"""Liveness and readiness: ``GET /v1/health`` reports each component; ``/`` and ``/api/hello`` answer fast."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from switchboard.api_gateway.database import ping as ping_database
from switchboard.api_gateway.state import GatewayState, gateway_state

__all__ = ["router"]

router = APIRouter()

_PROBE_TIMEOUT = 1.0


@router.api_route("/", methods=["GET", "HEAD"])
@router.api_route("/api/hello", methods=["GET", "HEAD"])
async def hello() -> dict[str, str]:
    return {"service": "switchboard", "status": "ok"}


@router.get("/v1/health")
async def health(request: Request) -> Response:
    state = gateway_state(request)
    nats, orchestrator, database, tool_broker, metering = await asyncio.gather(
        _nats(state), _service(state, "orchestrator"), _database(state), _service(state, "tool-broker"),
        _metering(state),
    )  # fmt: skip
    required = {"nats": nats, "orchestrator": orchestrator, "database": database}
    healthy = all(component["status"] == "ok" for component in required.values())
    # The Messages API works without these: MCP tools would be missing, and usage waits in JetStream until billed.
    optional = {"tool_broker": tool_broker, "metering": metering}
    components = {**required, **{name: {**part, "required": False} for name, part in optional.items()}}
    status = "healthy" if healthy else "degraded"
    status_code = 200 if nats["status"] == "ok" else 503
    return JSONResponse({"status": status, "components": components}, status_code=status_code)


async def _nats(state: GatewayState) -> dict[str, Any]:
    return {"status": "ok" if state.bus.connected else "down"}


async def _service(state: GatewayState, service: str) -> dict[str, Any]:
    try:
        answer = await state.bus.ping(service, timeout=_PROBE_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - a probe reports any failure as "down"
        return {"status": "down", "detail": f"no {service} answered ({type(exc).__name__})"}
    return {"status": "ok", "instance": answer.get("instance")}


async def _metering(state: GatewayState) -> dict[str, Any]:
    """Billing lag (the oldest completion not yet billed) and whether Lago answers."""
    try:
        status = await state.bus.metering_status(timeout=_PROBE_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - a probe reports any failure as "down"
        return {"status": "down", "detail": f"no metering answered ({type(exc).__name__})"}
    lago = "not configured" if status.lago_reachable is None else "ok" if status.lago_reachable else "unreachable"
    return {
        "status": "ok",
        "lag_seconds": round(status.lag_seconds, 3),
        "pending": status.pending,
        "oldest_unbilled_at": status.oldest_unbilled_at.isoformat() if status.oldest_unbilled_at else None,
        "lago": lago,
        "dead_letters": status.dead_letters,
    }


async def _database(state: GatewayState) -> dict[str, Any]:
    try:
        await asyncio.wait_for(ping_database(state.engine), _PROBE_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - a probe reports any failure as "down"
        return {"status": "down", "detail": type(exc).__name__}
    return {"status": "ok", "backend": state.engine.url.get_backend_name()}
