"""Who is calling: reads the credential from ``x-api-key`` or ``Authorization: Bearer`` and verifies it."""

from __future__ import annotations

from starlette.datastructures import Headers

from switchboard.api_gateway.keys.store import KeyStore, Principal
from switchboard.common.errors import AuthenticationError

__all__ = ["authenticate", "credential_from"]

_BEARER = "bearer "


def credential_from(headers: Headers) -> str | None:
    """``x-api-key`` wins over ``Authorization``; either may carry a ``Bearer`` prefix."""
    for name in ("x-api-key", "authorization"):
        value = headers.get(name, "").strip()
        if value[: len(_BEARER)].lower() == _BEARER:
            value = value[len(_BEARER) :].strip()
        if value:
            return value
    return None


async def authenticate(headers: Headers, keys: KeyStore) -> Principal:
    credential = credential_from(headers)
    if credential is None:
        raise AuthenticationError("x-api-key header is required")
    principal = await keys.authenticate(credential)
    if principal is None:
        raise AuthenticationError("invalid x-api-key")
    return principal
