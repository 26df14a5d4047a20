"""Who is calling: the credential from ``x-api-key`` or ``Authorization: Bearer``, verified by the api-gateway.

The gateway is the one key authority (``Subjects.verify_credential``); API keys travel only as their SHA-256.
Valid verdicts are cached for ``auth_cache_ttl``; a revoked key is forgotten at once (:meth:`forget`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

import nats.errors
from nats.aio.client import Client as NatsClient
from pydantic import ValidationError

from switchboard.common.credentials import credential_from, looks_like_jwt
from switchboard.common.errors import AuthenticationError, OverloadedError
from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import CredentialVerified, VerifyCredential

__all__ = ["Authenticator", "Caller"]

_VERIFY_TIMEOUT = 2.0
_NO_RESPONDER_RETRIES = (0.05, 0.2)
"""Pauses before asking again when no gateway answered: the first request after a subscription can miss it."""
_MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str
    credential_digest: str
    """SHA-256 of the credential: what a revoked API key is announced by."""
    is_admin: bool = False


class Authenticator:
    def __init__(self, nc: NatsClient, subjects: Subjects, cache_ttl: float) -> None:
        self._nc = nc
        self._subject = subjects.verify_credential
        self._ttl = cache_ttl
        self._cache: dict[str, tuple[Caller, float]] = {}

    async def caller(self, headers: Mapping[str, str]) -> Caller:
        credential = credential_from(headers)
        if credential is None:
            raise AuthenticationError("x-api-key header is required")
        digest = hashlib.sha256(credential.encode()).hexdigest()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        if looks_like_jwt(credential):
            verdict = await self._ask(VerifyCredential(jwt=credential))
        else:
            verdict = await self._ask(VerifyCredential(api_key_sha256=digest))
        if not verdict.valid or not verdict.user_id:
            raise AuthenticationError(verdict.reason or "invalid x-api-key")
        caller = Caller(user_id=verdict.user_id, credential_digest=digest, is_admin=verdict.is_admin)
        self._remember(digest, caller)
        return caller

    def forget(self, digest: str) -> None:
        self._cache.pop(digest, None)

    def _remember(self, digest: str, caller: Caller) -> None:
        if self._ttl <= 0:
            return
        now = time.monotonic()
        if len(self._cache) >= _MAX_CACHED:
            self._cache = {key: entry for key, entry in self._cache.items() if entry[1] > now}
        self._cache[digest] = (caller, now + self._ttl)

    async def _ask(self, query: VerifyCredential) -> CredentialVerified:
        payload = query.model_dump_json(exclude_none=True).encode()
        for pause in (*_NO_RESPONDER_RETRIES, None):
            try:
                reply = await self._nc.request(self._subject, payload, timeout=_VERIFY_TIMEOUT)
                return CredentialVerified.model_validate_json(reply.data)
            except nats.errors.NoRespondersError:
                if pause is None:
                    break
                await asyncio.sleep(pause)
            except (nats.errors.TimeoutError, nats.errors.ConnectionClosedError, ValidationError):
                break
        raise OverloadedError("The tool-broker cannot verify credentials right now; try again.")
