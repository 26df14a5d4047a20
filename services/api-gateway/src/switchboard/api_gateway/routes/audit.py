"""``GET /api/v1/audit``: administrators read the audit log, filtered, newest first, page by page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from switchboard.api_gateway.audit.query import parse_filters, query_audit
from switchboard.api_gateway.audit.recorder import AuditRecorder
from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.principal import require_admin
from switchboard.common.errors import ApiError

__all__ = ["router"]

router = APIRouter()


@router.get("/api/v1/audit")
async def list_audit(request: Request) -> dict[str, Any]:
    """Query parameters: ``user_id``, ``key_id``, ``status``, ``model``, ``endpoint``, ``request_id``,
    ``since`` (inclusive) and ``until`` (exclusive) as RFC 3339, ``limit`` (1..1000, default 100) and
    ``before_id`` (the previous page's ``next_before_id``)."""
    require_admin(await current_principal(request))
    filters = parse_filters(request.query_params)
    recorder: AuditRecorder | None = request.app.state.audit
    if recorder is None:
        raise ApiError("The audit log is not available yet.")
    page = await query_audit(recorder.engine, filters)
    return page.public()
