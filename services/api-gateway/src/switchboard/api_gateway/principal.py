"""Who is calling and what they may do: the one object every route and limiter receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from switchboard.common.errors import PermissionDeniedError

__all__ = ["PROXY_SCOPE", "Principal", "require_admin", "require_scope"]

PROXY_SCOPE = "anthropic-proxy"
"""Scope an API key needs for ``/v1/*`` (the Anthropic API)."""


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    key_id: str | None
    """The API key used; ``None`` for a JWT."""
    tier: str
    via: Literal["api_key", "jwt"]
    scopes: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False
    billing_account: str | None = None
    """The Lago subscription the user's usage is billed to (None: metering's default mapping)."""


def require_scope(principal: Principal, scope: str) -> None:
    # JWTs are Keycloak sessions of the user themself: they carry every user scope.
    if principal.via == "api_key" and scope not in principal.scopes and not principal.is_admin:
        raise PermissionDeniedError(f"This API key lacks the '{scope}' scope.")


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise PermissionDeniedError("This endpoint is for administrators.")
