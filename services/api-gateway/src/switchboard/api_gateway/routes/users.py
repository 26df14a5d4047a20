"""Administrators manage users: ``GET /api/v1/users`` lists them, ``PUT /api/v1/users/{user_id}/tier`` moves them
between subscription tiers, ``PUT /api/v1/users/{user_id}/billing`` names the Lago subscription their usage is
billed to."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.keys.tables import ApiKeyRow, UserRow
from switchboard.api_gateway.management_body import parse_management_body
from switchboard.api_gateway.management_query import integer_param, reject_unknown_params
from switchboard.api_gateway.principal import require_admin
from switchboard.api_gateway.state import gateway_state
from switchboard.common.errors import InvalidRequestError

__all__ = ["router"]

router = APIRouter()

MAX_LIMIT = 1000
_MAX_OFFSET = 2**31 - 1
_LIST_PARAMS = frozenset({"q", "limit", "offset"})


@router.get("/api/v1/users")
async def list_users(request: Request) -> dict[str, Any]:
    """Query parameters: ``q`` (case-insensitive substring of the user id), ``limit`` (1..1000, default 100) and
    ``offset`` (default 0). Users are those on record: created with their first API key, or by an administrator
    setting their tier or billing account (a token-only user who never had either is not listed)."""
    require_admin(await current_principal(request))
    params = request.query_params
    reject_unknown_params(params, _LIST_PARAMS)
    limit = integer_param(params, "limit", low=1, high=MAX_LIMIT, default=100)
    offset = integer_param(params, "offset", low=0, high=_MAX_OFFSET, default=0)
    query = params.get("q")
    matching = UserRow.user_id.icontains(query, autoescape=True) if query else true()
    engine = gateway_state(request).engine
    async with AsyncSession(engine) as session:
        total = await session.scalar(select(func.count()).select_from(UserRow).where(matching))
        rows = (await session.execute(_page(matching, engine.dialect.name, limit, offset))).tuples().all()
    return {"data": [_public_user(user, keys) for user, keys in rows], "total": total or 0}


def _page(matching: ColumnElement[bool], dialect: str, limit: int, offset: int) -> Select[UserRow, int]:
    """One page of users, each with their active (not revoked) keys counted in the same query."""
    # Code-point order on both backends (PostgreSQL would otherwise sort by the database's locale).
    order = UserRow.user_id.collate("C") if dialect == "postgresql" else UserRow.user_id
    active = (
        select(ApiKeyRow.user_id, func.count().label("active_keys"))
        .where(ApiKeyRow.revoked_at.is_(None))
        .group_by(ApiKeyRow.user_id)
        .subquery()
    )
    return (
        select(UserRow, func.coalesce(active.c.active_keys, 0))
        .outerjoin(active, active.c.user_id == UserRow.user_id)
        .where(matching)
        .order_by(order)
        .limit(limit)
        .offset(offset)
    )


def _public_user(row: UserRow, active_keys: int) -> dict[str, Any]:
    created = row.created_at.replace(tzinfo=UTC) if row.created_at.tzinfo is None else row.created_at  # SQLite
    return {
        "user_id": row.user_id,
        "tier": row.tier,
        "billing_account": row.billing_account,
        "active_keys": int(active_keys),
        "created_at": created.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


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
