"""``/api/v1/api-keys``: users manage their own keys with a JWT; administrators manage anyone's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.keys.store import KeyView
from switchboard.api_gateway.management_body import parse_management_body
from switchboard.api_gateway.principal import PROXY_SCOPE, Principal
from switchboard.api_gateway.state import gateway_state
from switchboard.common.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from switchboard.common.events import ApiKeyRevoked

__all__ = ["router"]

router = APIRouter()

KNOWN_SCOPES = frozenset({PROXY_SCOPE})


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=255)
    scopes: list[str] = Field(default_factory=lambda: [PROXY_SCOPE], max_length=16)
    expires_at: AwareDatetime | None = None
    user_id: str | None = Field(None, min_length=1, max_length=255, description="administrators only")
    tier: str | None = Field(None, min_length=1, max_length=64, description="administrators only")


def _may_manage(principal: Principal) -> None:
    if principal.via == "api_key" and not principal.is_admin:
        raise PermissionDeniedError("Manage API keys with a Keycloak token (or an administrator key).")


@router.post("/api/v1/api-keys")
async def create_key(request: Request) -> JSONResponse:
    principal = await current_principal(request)
    _may_manage(principal)
    body = await parse_management_body(request, CreateKeyBody)
    unknown = sorted(set(body.scopes) - KNOWN_SCOPES)
    if unknown:
        raise InvalidRequestError(f"scopes: unknown scope {unknown[0]!r} (known: {', '.join(sorted(KNOWN_SCOPES))})")
    if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
        raise InvalidRequestError("expires_at: must be in the future")
    if (body.user_id is not None or body.tier is not None) and not principal.is_admin:
        raise PermissionDeniedError("Only administrators may create keys for other users or set tiers.")
    if body.tier is not None and body.tier not in gateway_state(request).tier_names:
        raise InvalidRequestError(f"tier: unknown tier {body.tier!r}")
    # A token's tier claim is the identity provider's word: the user's record (and so their keys) follow it.
    tier = body.tier if principal.is_admin else (principal.tier if principal.via == "jwt" else None)
    created = await gateway_state(request).auth.keys.create(
        user_id=body.user_id or principal.user_id, name=body.name, scopes=body.scopes,
        expires_at=body.expires_at, tier=tier,
    )  # fmt: skip
    return JSONResponse({**created.view.public(), "key": created.secret}, status_code=201)


@router.get("/api/v1/api-keys")
async def list_keys(request: Request, user_id: str | None = None) -> dict[str, Any]:
    principal = await current_principal(request)
    _may_manage(principal)
    if user_id is not None and user_id != principal.user_id and not principal.is_admin:
        raise PermissionDeniedError("Only administrators may list other users' keys.")
    owner = user_id if principal.is_admin else principal.user_id
    keys = await gateway_state(request).auth.keys.list(user_id=owner)
    return {"data": [key.public() for key in keys]}


@router.delete("/api/v1/api-keys/{key_id}")
async def revoke_key(request: Request, key_id: str) -> Response:
    principal = await current_principal(request)
    _may_manage(principal)
    state = gateway_state(request)
    key = await state.auth.keys.get(key_id)
    if key is None or not _owns(principal, key):
        raise NotFoundError(f"API key {key_id!r} not found.")  # the same answer whether it exists or not
    digest = await state.auth.keys.revoke(key_id)
    if digest is not None:
        event = ApiKeyRevoked(key_id=key_id, secret_hash=digest)
        await state.bus.broadcast(state.settings.subjects.api_key_revoked, event.model_dump_json().encode())
    return Response(status_code=204)


def _owns(principal: Principal, key: KeyView) -> bool:
    return principal.is_admin or key.user_id == principal.user_id
