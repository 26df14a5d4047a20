"""Administrators manage users: ``PUT /api/v1/users/{user_id}/tier`` moves them between subscription tiers,
``PUT /api/v1/users/{user_id}/billing`` names the Lago subscription their usage is billed to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.management_body import parse_management_body
from switchboard.api_gateway.principal import require_admin
from switchboard.api_gateway.state import gateway_state
from switchboard.common.errors import InvalidRequestError

__all__ = ["router"]

router = APIRouter()


class TierBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str = Field(min_length=1, max_length=64)


@router.put("/api/v1/users/{user_id}/tier")
async def set_tier(request: Request, user_id: str) -> dict[str, Any]:
    require_admin(await current_principal(request))
    body = await parse_management_body(request, TierBody)
    state = gateway_state(request)
    if body.tier not in state.tier_names:
        raise InvalidRequestError(f"tier: unknown tier {body.tier!r} (known: {', '.join(sorted(state.tier_names))})")
    await state.users.set_tier(user_id, body.tier)
    state.auth.keys.invalidate_user(user_id)
    return {"user_id": user_id, "tier": body.tier}


class BillingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    billing_account: str | None = Field(min_length=1, max_length=255, pattern=r"^\S+$")
    """Lago ``external_subscription_id``; null: metering's default mapping (``SWITCHBOARD_LAGO_SUBSCRIPTION_ID``)."""


@router.put("/api/v1/users/{user_id}/billing")
async def set_billing_account(request: Request, user_id: str) -> dict[str, Any]:
    require_admin(await current_principal(request))
    body = await parse_management_body(request, BillingBody)
    state = gateway_state(request)
    await state.users.set_billing_account(user_id, body.billing_account)
    state.auth.keys.invalidate_user(user_id)  # cached principals carry the account
    return {"user_id": user_id, "billing_account": body.billing_account}
