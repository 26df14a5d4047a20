"""Verifies Keycloak access tokens: pinned algorithms, iss/aud/exp checks, and a JWKS cache that follows key rotation.

The JWKS is fetched with the service's async httpx client (never blocking I/O on the loop), cached for ``jwks_ttl``
seconds, and refreshed early when a token names an unknown ``kid``, at most once per ``refresh_cooldown`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt

from switchboard.common.errors import AuthenticationError, UpstreamUnavailableError

__all__ = ["JwtVerifier", "TokenClaims"]

_log = logging.getLogger(__name__)
_MAX_TOKEN_CHARS = 64 * 1024
# Most specific first: ExpiredSignatureError and friends all derive from InvalidTokenError.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "JWT expired"),
    (jwt.ImmatureSignatureError, "JWT not yet valid"),
    (jwt.InvalidSignatureError, "JWT signature invalid"),
    (jwt.InvalidIssuerError, "JWT issuer not accepted"),
    (jwt.InvalidAudienceError, "JWT audience not accepted"),
    (jwt.InvalidAlgorithmError, "JWT algorithm not allowed"),
)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What the gateway takes from a verified token."""

    subject: str
    tier: str | None
    roles: frozenset[str]
    expires_at: datetime


class JwtVerifier:
    """Checks a bearer JWT against one Keycloak realm and returns its :class:`TokenClaims`."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        http: httpx.AsyncClient,
        tier_claim: str = "switchboard_tier",
        algorithms: Sequence[str] = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256"),
        leeway: float = 30.0,
        jwks_ttl: float = 300.0,
        refresh_cooldown: float = 10.0,
        fetch_timeout: float = 5.0,
    ) -> None:
        # HMAC algorithms would let anyone holding the public key (everyone) forge tokens.
        if not algorithms or any(alg.upper().startswith("HS") or alg.lower() == "none" for alg in algorithms):
            raise ValueError("algorithms must be a non-empty list of asymmetric JWS algorithms")
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self._http = http
        self._tier_path = tier_claim
        self._algorithms = frozenset(algorithms)
        self._leeway = leeway
        self._ttl = jwks_ttl
        self._cooldown = refresh_cooldown
        self._fetch_timeout = fetch_timeout
        self._lock = asyncio.Lock()
        self._keys: list[jwt.PyJWK] | None = None
        self._fetched_at = 0.0  # monotonic time of the last successful fetch
        self._failed_at = -float("inf")  # ...of the last failed one
        self._forced_at = -float("inf")  # ...of the last refresh forced by an unknown kid
        self._generation = 0  # bumped by every successful fetch

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    async def verify(self, token: str) -> TokenClaims:
        """The token's claims; raises AuthenticationError (never echoing the token) or UpstreamUnavailableError."""
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise AuthenticationError("JWT algorithm not allowed")
        key = await self._signing_key(header.get("kid"))
        if key.algorithm_name not in self._algorithms:
            raise AuthenticationError("JWT algorithm not allowed")
        claims = self._decode(token, key)
        return TokenClaims(
            subject=claims["sub"],
            tier=self._tier(claims),
            roles=self._roles(claims),
            expires_at=_expiry(claims["exp"]),
        )

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[key.algorithm_name], audience=self.audience, issuer=self.issuer,
                leeway=self._leeway, options={"require": ["exp", "iat", "iss", "sub"]},
            )  # fmt: skip
        except jwt.MissingRequiredClaimError as error:
            reason = "JWT audience not accepted" if error.claim == "aud" else f"JWT malformed: no '{error.claim}' claim"
            raise AuthenticationError(reason) from None
        except jwt.PyJWTError as error:
            reason = next((text for kind, text in _REASONS if isinstance(error, kind)), "JWT malformed")
            raise AuthenticationError(reason) from None
        return claims

    def _tier(self, claims: Mapping[str, Any]) -> str | None:
        value: Any = claims.get(self._tier_path)
        if value is None:  # not a literal top-level name: follow the dotted path through nested objects
            value = claims
            for part in self._tier_path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
        return value if isinstance(value, str) and value else None

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[str]:
        resource_access = claims.get("resource_access")
        client = resource_access.get(self.audience) if isinstance(resource_access, Mapping) else None
        return _role_names(claims.get("realm_access")) | _role_names(client)

    async def _signing_key(self, kid: object) -> jwt.PyJWK:
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationError("JWT malformed")
        keys = await self._current_keys()
        generation = self._generation
        key = _find(keys, kid)
        if key is None and kid is not None and await self._refresh_for_unknown_kid(generation):
            key = _find(self._keys or [], kid)
        if key is None:
            raise AuthenticationError("JWT signing key unknown")
        return key

    async def _current_keys(self) -> list[jwt.PyJWK]:
        if self._keys is not None and time.monotonic() - self._fetched_at < self._ttl:
            return self._keys
        async with self._lock:
            now = time.monotonic()
            stale = self._keys is not None and now - self._fetched_at >= self._ttl
            # After a failed attempt, keep serving the stale set and retry only once per cooldown.
            if self._keys is None or (stale and now - self._failed_at >= self._cooldown):
                await self._fetch(keep_stale=self._keys is not None)
            assert self._keys is not None
            return self._keys

    async def _refresh_for_unknown_kid(self, generation: int) -> bool:
        """Fetch once for a kid not in the set; False when the cooldown forbids it. Waiters share one fetch."""
        async with self._lock:
            if self._generation != generation:
                return True
            if time.monotonic() - self._forced_at < self._cooldown:
                return False
            self._forced_at = time.monotonic()
            await self._fetch(keep_stale=False)
            return True

    async def _fetch(self, *, keep_stale: bool) -> None:
        try:
            response = await self._http.get(self.jwks_url, timeout=self._fetch_timeout)
            response.raise_for_status()
            keys = _parse_jwks(response.json())
        except (httpx.HTTPError, ValueError) as error:
            _log.warning("JWKS fetch from %s failed: %r", self.jwks_url, error)
            self._failed_at = time.monotonic()
            if keep_stale:
                return
            raise UpstreamUnavailableError("identity provider unreachable") from None
        self._keys, self._fetched_at = keys, time.monotonic()
        self._generation += 1


def _header(token: str) -> dict[str, Any]:
    if len(token) > _MAX_TOKEN_CHARS:
        raise AuthenticationError("JWT malformed")
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise AuthenticationError("JWT malformed") from None


def _parse_jwks(document: Any) -> list[jwt.PyJWK]:
    """The signing keys of a JWK set; encryption keys and keys PyJWT cannot use are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: list[jwt.PyJWK] = []
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys.append(jwt.PyJWK.from_dict(entry))
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            _log.info("skipping unusable JWK kid=%r alg=%r", entry.get("kid"), entry.get("alg"))
    return keys


def _expiry(exp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, TypeError, ValueError):  # signed, but absurd (year 10000+)
        raise AuthenticationError("JWT malformed") from None


def _find(keys: Sequence[jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is None:  # a kid-less token is only unambiguous against a single-key set
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.key_id == kid), None)


def _role_names(access: object) -> frozenset[str]:
    roles = access.get("roles") if isinstance(access, Mapping) else None
    if not isinstance(roles, list):
        return frozenset()
    return frozenset(role for role in roles if isinstance(role, str))
