"""``GET /api/v1/users/{user_id}/rate-limit``: where a user stands against each limit of their tier, right now.

The counters are the limiter's own (NATS atomic counters, shared by every replica), read without incrementing
them, so asking costs the user nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from nats.errors import Error as NatsError

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.management_query import reject_unknown_params
from switchboard.api_gateway.principal import require_admin
from switchboard.api_gateway.state import gateway_state
from switchboard.common.errors import OverloadedError

__all__ = ["router"]

router = APIRouter()

_READ_TIMEOUT = 2.0


@router.get("/api/v1/users/{user_id}/rate-limit")
async def rate_limit(request: Request, user_id: str) -> dict[str, Any]:
    """The user themself, or an administrator. A caller's own tier is the one their credential carries (a token's
    tier claim included), exactly what the limiter applies to them; for anyone else it is the tier on record."""
    principal = await current_principal(request)
    if user_id != principal.user_id:
        require_admin(principal)
    reject_unknown_params(request.query_params)
    state = gateway_state(request)
    tier = principal.tier if user_id == principal.user_id else await state.users.tier_of(user_id)
    try:
        async with asyncio.timeout(_READ_TIMEOUT):
            windows = await state.limiter.current_usage(user_id, tier)
    except (NatsError, TimeoutError):
        raise OverloadedError("Rate-limit state is unavailable right now; try again.") from None
    return {
        "user_id": user_id,
        "tier": tier,
        "limits": {name: window.public() for name, window in windows.items()},
    }
