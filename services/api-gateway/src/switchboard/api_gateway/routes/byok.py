"""``/api/v1/byok``: a user stores, lists and removes their own provider keys (shown only by the last 4 characters)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.byok.ssrf import MAX_URL_LENGTH, check_base_url
from switchboard.api_gateway.byok.store import ByokStore
from switchboard.api_gateway.management_body import parse_management_body
from switchboard.api_gateway.principal import Principal
from switchboard.api_gateway.state import gateway_state
from switchboard.common.byok import BYOK_DEFAULT_BASE_URLS
from switchboard.common.errors import InvalidRequestError, NotFoundError, PermissionDeniedError

__all__ = ["DEFAULT_BASE_URLS", "router"]

router = APIRouter()

DEFAULT_BASE_URLS: dict[str, str | None] = {
    "anthropic": None,  # the routed provider's own endpoint
    **BYOK_DEFAULT_BASE_URLS,
}
"""Providers whose endpoint is known; any other name needs a ``base_url``."""
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class PutByokBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Visible ASCII only: the key ends up in an HTTP header, where anything else is an injection or an error.
    api_key: str = Field(min_length=8, max_length=4096, pattern=r"^[\x21-\x7e]+$")
    base_url: str | None = Field(None, min_length=1, max_length=MAX_URL_LENGTH)


@router.put("/api/v1/byok/{provider}")
async def put_key(request: Request, provider: str) -> dict[str, Any]:
    principal, store = await _caller(request)
    _check_provider(provider)
    body = await parse_management_body(request, PutByokBody)
    base_url = DEFAULT_BASE_URLS.get(provider)
    if body.base_url is not None:
        base_url = body.base_url.rstrip("/")
        await check_base_url(base_url, allow_private=gateway_state(request).settings.byok_allow_private)
    elif provider not in DEFAULT_BASE_URLS:
        raise InvalidRequestError(f"base_url: Field required for provider {provider!r} (an OpenAI-compatible endpoint)")
    view = await store.put(principal.user_id, provider, body.api_key, base_url)
    return view.public()


@router.get("/api/v1/byok")
async def list_keys(request: Request) -> dict[str, Any]:
    principal, store = await _caller(request)
    return {"data": [view.public() for view in await store.list(principal.user_id)]}


@router.get("/api/v1/byok/{provider}")
async def get_key(request: Request, provider: str) -> dict[str, Any]:
    principal, store = await _caller(request)
    _check_provider(provider)
    view = await store.get(principal.user_id, provider)
    if view is None:
        raise NotFoundError(f"No key stored for provider {provider!r}.")
    return view.public()


@router.delete("/api/v1/byok/{provider}")
async def delete_key(request: Request, provider: str) -> Response:
    principal, store = await _caller(request)
    _check_provider(provider)
    if not await store.delete(principal.user_id, provider):
        raise NotFoundError(f"No key stored for provider {provider!r}.")
    return Response(status_code=204)


async def _caller(request: Request) -> tuple[Principal, ByokStore]:
    """The authenticated caller and the store; each caller only ever sees their own keys."""
    principal = await current_principal(request)
    if principal.via == "api_key" and not principal.is_admin:
        # A leaked proxy key must not be able to point the user's traffic at another endpoint.
        raise PermissionDeniedError("Manage BYOK keys with a Keycloak token (or an administrator key).")
    store: ByokStore | None = request.app.state.byok
    if store is None:
        raise InvalidRequestError("BYOK is not enabled on this gateway (set SWITCHBOARD_BYOK_KEYS)")
    return principal, store


def _check_provider(provider: str) -> None:
    if _PROVIDER_NAME.fullmatch(provider) is None:
        raise InvalidRequestError(
            "provider: must be 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter or digit"
        )
