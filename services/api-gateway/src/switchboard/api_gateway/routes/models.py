"""``GET /v1/models`` and ``GET /v1/models/{model_id}`` in Anthropic's shapes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.byok.store import ByokStore
from switchboard.api_gateway.principal import PROXY_SCOPE, require_scope
from switchboard.api_gateway.state import gateway_state
from switchboard.common.events import ListModels

__all__ = ["router"]

router = APIRouter()


@router.get("/v1/models")
async def list_models(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    after_id: str | None = None,
    before_id: str | None = None,
) -> dict[str, Any]:
    state = gateway_state(request)
    query = await _caller_query(request)
    return await state.models.page(limit=limit, after_id=after_id, before_id=before_id, query=query)


@router.get("/v1/models/{model_id:path}")
async def get_model(request: Request, model_id: str) -> dict[str, Any]:
    state = gateway_state(request)
    return await state.models.get(model_id, await _caller_query(request))


async def _caller_query(request: Request) -> ListModels:
    """What to ask the orchestrators: the models every caller sees, plus those of the caller's own providers."""
    principal = await current_principal(request)
    require_scope(principal, PROXY_SCOPE)
    store: ByokStore | None = request.app.state.byok
    byok = await store.credentials(principal.user_id) if store is not None else {}
    return ListModels(user_id=principal.user_id, byok=byok)
