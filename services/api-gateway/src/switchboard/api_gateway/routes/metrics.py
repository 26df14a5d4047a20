"""``GET /metrics``: this process's Prometheus metrics, unauthenticated like ``/v1/health`` (keep it internal)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from switchboard.api_gateway.metrics import gateway_metrics

__all__ = ["router"]

router = APIRouter()


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(gateway_metrics().registry), media_type=CONTENT_TYPE_LATEST)
