"""Who is calling: the credential from ``x-api-key`` or ``Authorization: Bearer``, as an API key or a Keycloak JWT."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import Headers

from switchboard.api_gateway.identity.jwt_verifier import JwtVerifier
from switchboard.api_gateway.keys.store import KeyStore
from switchboard.api_gateway.keys.users import UserStore
from switchboard.api_gateway.principal import PROXY_SCOPE, Principal
from switchboard.common.credentials import credential_from, looks_like_jwt
from switchboard.common.errors import AuthenticationError

__all__ = ["Authenticator", "current_principal"]


class Authenticator:
    def __init__(self, keys: KeyStore, users: UserStore, jwt: JwtVerifier | None, *, admin_role: str) -> None:
        self.keys = keys
        self._users = users
        self._jwt = jwt
        self._admin_role = admin_role

    async def principal(self, headers: Headers) -> Principal:
        credential = credential_from(headers)
        if credential is None:
            raise AuthenticationError("x-api-key header is required")
        if looks_like_jwt(credential):
            return await self._from_jwt(credential)
        principal = await self.keys.authenticate(credential)
        if principal is None:
            raise AuthenticationError("invalid x-api-key")
        return principal

    async def principal_for_digest(self, digest: str) -> Principal:
        """The owner of an API key another service knows only by its SHA-256."""
        principal = await self.keys.authenticate_digest(digest)
        if principal is None:
            raise AuthenticationError("invalid x-api-key")
        return principal

    async def principal_for_jwt(self, token: str) -> Principal:
        return await self._from_jwt(token)

    async def _from_jwt(self, token: str) -> Principal:
        if self._jwt is None:
            raise AuthenticationError("invalid x-api-key")  # JWTs are not accepted here: same as any unknown key
        claims = await self._jwt.verify(token)
        stored_tier, billing_account = await self._users.profile_of(claims.subject)
        return Principal(
            user_id=claims.subject, key_id=None, tier=claims.tier or stored_tier, via="jwt",
            scopes=frozenset({PROXY_SCOPE}), is_admin=self._admin_role in claims.roles,
            billing_account=billing_account,
        )  # fmt: skip


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated caller, also left in the request state for the audit log."""
    authenticator: Authenticator = request.app.state.gateway.auth
    principal = await authenticator.principal(request.headers)
    request.state.principal = principal
    return principal
