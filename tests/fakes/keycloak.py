"""A fake Keycloak realm: a real HTTP server on 127.0.0.1 serving the JWKS and discovery document, plus a minter.

Tokens look like Keycloak access tokens (``azp``, ``realm_access``, ``resource_access``, ``typ: Bearer``) and can be
forged in the ways an attacker would: ``alg: none``, HS256 keyed with the public key, or a key the realm never had.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .loopback_server import Responder
from .recording_server import RecordedRequest, RecordingServer

__all__ = ["FakeKeycloak"]


@dataclass(frozen=True)
class _Key:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def new(cls) -> _Key:
        return cls(secrets.token_urlsafe(12), rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self, *, alg: str = "RS256", use: str = "sig") -> dict[str, Any]:
        public: dict[str, Any] = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "alg": alg, "use": use}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class FakeKeycloak(RecordingServer):
    """One realm; use as a context manager or call `start()` and `stop()`. `url` is the KEYCLOAK_URL."""

    def __init__(self, realm: str = "switchboard", audience: str = "switchboard-gateway") -> None:
        super().__init__()
        self.realm = realm
        self.audience = audience
        self.jwks_status = 200
        """HTTP status the JWKS endpoint answers with (set e.g. 503 to simulate a broken identity provider)."""
        self._keys_lock = threading.Lock()
        self._signing: list[_Key] = [_Key.new()]  # newest first; the first one signs
        self._encryption = _unpublished_key("enc")  # Keycloak also publishes an RSA-OAEP key verifiers must ignore
        self._foreign = _unpublished_key("foreign")

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{self.realm}"

    @property
    def jwks_requests(self) -> int:
        """How many JWKS fetches the fake has served."""
        path = f"/realms/{self.realm}/protocol/openid-connect/certs"
        with self._lock:
            return sum(1 for request in self.requests if request.path == path)

    @property
    def kid(self) -> str:
        """The kid of the key that signs new tokens."""
        with self._keys_lock:
            return self._signing[0].kid

    def jwks(self) -> dict[str, Any]:
        with self._keys_lock:
            keys = [key.jwk() for key in self._signing]
        return {"keys": [*keys, self._encryption.jwk(alg="RSA-OAEP", use="enc")]}

    def rotate(self, *, keep_old: bool = False) -> None:
        """Sign with a new key under a new kid; the JWKS drops the old key unless `keep_old`."""
        with self._keys_lock:
            self._signing = [_Key.new(), *(self._signing if keep_old else [])]

    def mint(
        self,
        sub: str,
        *,
        audience: str | list[str] | None = None,
        issuer: str | None = None,
        expires_in: float = 300,
        roles: Sequence[str] = (),
        tier: str | None = None,
        kid: str | None = None,
        alg: str = "RS256",
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """An access token like Keycloak's; `roles` are realm roles, `tier` the `switchboard_tier` claim."""
        now = time.time()
        claims: dict[str, Any] = {
            "iss": issuer or self.issuer, "sub": sub, "aud": audience or self.audience, "azp": self.audience,
            "typ": "Bearer", "iat": int(min(now, now + expires_in)), "exp": int(now + expires_in),
            "jti": secrets.token_hex(8), "realm_access": {"roles": list(roles)},
        }  # fmt: skip
        if tier is not None:
            claims["switchboard_tier"] = tier
        claims.update(extra or {})
        return self.sign(claims, headers={"kid": kid or self.kid}, alg=alg)

    def mint_with_foreign_key(self, sub: str) -> str:
        """A well-formed token under the current kid, signed by a key the realm never published."""
        claims = jwt.decode(self.mint(sub), options={"verify_signature": False})
        return jwt.encode(claims, self._foreign.private, algorithm="RS256", headers={"kid": self.kid})

    def sign(self, claims: Mapping[str, Any], *, headers: Mapping[str, Any] | None = None, alg: str = "RS256") -> str:
        """Sign arbitrary claims; `headers` defaults to the current kid (pass `{}` for a kid-less token)."""
        header = {"kid": self.kid} if headers is None else dict(headers)
        if alg == "none":
            return _compact({**header, "alg": "none", "typ": "JWT"}, claims, lambda _: b"")
        if alg.startswith("HS"):  # PyJWT refuses PEM keys as HMAC secrets, so forge the confusion attack by hand
            secret = self._current().public_pem()
            digest = getattr(hashlib, f"sha{alg[2:]}")
            return _compact(
                {**header, "alg": alg, "typ": "JWT"}, claims, lambda data: hmac.digest(secret, data, digest)
            )
        return jwt.encode(dict(claims), self._current().private, algorithm=alg, headers=header)

    def _current(self) -> _Key:
        with self._keys_lock:
            return self._signing[0]

    async def _serve(self, request: RecordedRequest, responder: Responder) -> None:
        realm = f"/realms/{self.realm}"
        if request.method != "GET":
            _send(responder, 405, {"error": "method not allowed"})
        elif request.path == f"{realm}/protocol/openid-connect/certs":
            _send(responder, self.jwks_status, self.jwks() if self.jwks_status == 200 else {"error": "unavailable"})
        elif request.path == f"{realm}/.well-known/openid-configuration":
            _send(responder, 200, self._discovery())
        else:
            _send(responder, 404, {"error": "Realm does not exist"})

    def _discovery(self) -> dict[str, Any]:
        endpoints = f"{self.issuer}/protocol/openid-connect"
        return {
            "issuer": self.issuer, "jwks_uri": f"{endpoints}/certs", "authorization_endpoint": f"{endpoints}/auth",
            "token_endpoint": f"{endpoints}/token", "userinfo_endpoint": f"{endpoints}/userinfo",
            "id_token_signing_alg_values_supported": ["RS256"], "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "grant_types_supported": ["authorization_code", "refresh_token"],
        }  # fmt: skip


@functools.cache
def _unpublished_key(purpose: str) -> _Key:
    """Keys that never sign realm tokens are shared by every fake: RSA key generation is slow."""
    return _Key.new()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(header: Mapping[str, Any], claims: Mapping[str, Any], signer: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64encode(json.dumps(header).encode())}.{_b64encode(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64encode(signer(signing_input.encode()))}"


def _send(responder: Responder, status: int, document: Mapping[str, Any]) -> None:
    responder.send(status, {"content-type": "application/json"}, json.dumps(document).encode())
