"""``GET /api/v1/me``: who the gateway takes the caller to be, and the limits it applies to them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.management_query import reject_unknown_params
from switchboard.api_gateway.state import gateway_state

__all__ = ["router"]

router = APIRouter()


@router.get("/api/v1/me")
async def me(request: Request) -> dict[str, Any]:
    """Any credential may ask, even a key without scopes: it only learns what the gateway knows of it already."""
    principal = await current_principal(request)
    reject_unknown_params(request.query_params)
    limits = gateway_state(request).limiter.limits_for(principal.tier)
    return {
        "user_id": principal.user_id,
        "tier": principal.tier,
        "is_admin": principal.is_admin,
        "via": principal.via,
        "key_id": principal.key_id,
        "scopes": sorted(principal.scopes),
        "billing_account": principal.billing_account,
        "limits": limits.model_dump(),
    }
