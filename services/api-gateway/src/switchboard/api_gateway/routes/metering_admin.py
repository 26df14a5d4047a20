"""``GET /api/v1/metering/status`` and ``GET /api/v1/metering/dead-letters``: billing's health, for administrators.

Both are answered by any metering replica over NATS (``MeteringStatus``, ``QueryDeadLetters`` →
``DeadLettersListed``); the gateway only checks who asks and turns the reply into JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from pydantic import BaseModel, ValidationError

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.principal import require_admin
from switchboard.api_gateway.state import gateway_state
from switchboard.common.errors import InvalidRequestError, OverloadedError
from switchboard.common.usage_events import DEAD_LETTERS_DEFAULT_LIMIT, DEAD_LETTERS_MAX_LIMIT, QueryDeadLetters

__all__ = ["router"]

router = APIRouter()

_QUERY_TIMEOUT = 5.0


@router.get("/api/v1/metering/status")
async def metering_status(request: Request) -> dict[str, Any]:
    """Billing lag, Lago reachability and the dead-letter count, as metering reports them."""
    require_admin(await current_principal(request))
    return await _ask(gateway_state(request).bus.metering_status(timeout=_QUERY_TIMEOUT), "Metering status is")


@router.get("/api/v1/metering/dead-letters")
async def dead_letters(request: Request) -> dict[str, Any]:
    """Query parameters: ``limit`` (1..500, default 50) and ``user_id`` (only that user's); newest first."""
    require_admin(await current_principal(request))
    params = request.query_params
    query = QueryDeadLetters(limit=_limit(params.get("limit")), user_id=params.get("user_id") or None)
    return await _ask(gateway_state(request).bus.query_dead_letters(query, timeout=_QUERY_TIMEOUT), "Dead letters are")


async def _ask(reply: Awaitable[BaseModel], what: str) -> dict[str, Any]:
    try:
        answer = await reply
    except NoRespondersError:
        raise OverloadedError(f"{what} unavailable: no metering service is running.") from None
    except (NatsError, TimeoutError, ValidationError):  # a metering that answered {"error": ...} included
        raise OverloadedError(f"{what} unavailable right now; try again.") from None
    return answer.model_dump(mode="json")


def _limit(value: str | None) -> int:
    if value is None:
        return DEAD_LETTERS_DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= DEAD_LETTERS_MAX_LIMIT:
        raise InvalidRequestError(f"limit: expected an integer from 1 to {DEAD_LETTERS_MAX_LIMIT}, got {value[:40]!r}")
    return limit
