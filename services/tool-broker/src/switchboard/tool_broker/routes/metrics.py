"""``GET /metrics``: this process's Prometheus metrics, unauthenticated (keep the port internal)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from switchboard.tool_broker.metrics import tool_broker_metrics

__all__ = ["router"]

router = APIRouter()


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(tool_broker_metrics().registry), media_type=CONTENT_TYPE_LATEST)
