"""A fake Keycloak realm: a real HTTP server on 127.0.0.1 serving the JWKS and discovery document, plus a minter.

Tokens look like Keycloak access tokens (``azp``, ``realm_access``, ``resource_access``, ``typ: Bearer``) and can be
forged in the ways an attacker would: ``alg: none``, HS256 keyed with the public key, or a key the realm never had.
Browsers can also log in: the authorization-code flow with PKCE for public clients (`add_client`, `add_user`); the
login page and logout are in `keycloak_login`, the token endpoint (which mints with `mint`) is here.
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
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .keycloak_login import Client, IssuedCode, LoginFlow, LoginRealm, Reply, SsoSession, User, pkce_pair, s256
from .loopback_server import Responder
from .recording_server import RecordedRequest, RecordingServer

__all__ = ["Client", "FakeKeycloak", "IssuedCode", "SsoSession", "User", "pkce_pair"]

_OIDC = "/protocol/openid-connect"
_DEFAULT_SCOPES = ("profile", "email")  # Keycloak's default client scopes, granted whatever the request asks
# Keycloak's Cors.DEFAULT_ALLOW_HEADERS plus Authorization, which `auth()` endpoints add.
_ALLOW_HEADERS = ("Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, "
                  "Access-Control-Request-Headers, DPoP, Authorization")  # fmt: skip


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
        self.access_token_lifespan = 300
        """Seconds access and ID tokens from the token endpoint live (Keycloak's default: 5 minutes)."""
        self.refresh_token_lifespan = 1800
        """Seconds refresh tokens live (Keycloak's default SSO session idle: 30 minutes)."""
        self._refresh_secret = secrets.token_bytes(64)  # Keycloak signs refresh tokens with a realm HMAC key
        self._accounts = LoginRealm()
        self._login = LoginFlow(self._accounts, realm, lambda: self.issuer, self._verify_id_token)

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
    def token_requests(self) -> int:
        """How many requests (other than CORS preflights) the token endpoint has had."""
        path = f"/realms/{self.realm}{_OIDC}/token"
        with self._lock:
            return sum(1 for request in self.requests if request.path == path and request.method != "OPTIONS")

    @property
    def issued_codes(self) -> list[IssuedCode]:
        """Every authorization code issued so far, oldest first (`used` tells whether it was redeemed)."""
        return self._accounts.codes()

    @property
    def code_lifespan(self) -> float:
        """Seconds an authorization code stays redeemable (Keycloak's default: 60)."""
        return self._accounts.code_lifespan

    @code_lifespan.setter
    def code_lifespan(self, seconds: float) -> None:
        self._accounts.code_lifespan = seconds

    def add_client(
        self,
        client_id: str,
        redirect_uris: Sequence[str],
        web_origins: Sequence[str] = (),
        *,
        pkce_method: str | None = "S256",
        post_logout_redirect_uris: Sequence[str] = ("+",),
    ) -> Client:
        """A public client; a redirect URI may end in ``*``; `pkce_method` None makes PKCE optional."""
        return self._accounts.add_client(
            Client(client_id, tuple(redirect_uris), tuple(web_origins), pkce_method, tuple(post_logout_redirect_uris))
        )

    def add_user(
        self,
        username: str,
        password: str,
        user_id: str | None = None,
        roles: Sequence[str] = (),
        *,
        tier: str | None = None,
        email: str | None = None,
    ) -> User:
        """A user who can log in; the tokens' ``sub`` is `user_id` (a UUID by default), `roles` are realm roles."""
        return self._accounts.add_user(
            User(username, password, user_id or str(uuid.uuid4()), tuple(roles), tier, email)
        )

    def sessions(self, username: str | None = None) -> list[SsoSession]:
        """The realm's user sessions (ended ones too: check `active`), of one user if `username` is given."""
        return [s for s in self._accounts.sessions() if username is None or s.user.username == username]

    def end_sessions(self, username: str | None = None) -> int:
        """End user sessions (an admin's "sign out", or expiry): their refresh tokens stop working. Returns how many."""
        return self._accounts.end_sessions(lambda session: username is None or session.user.username == username)

    def authorization_url(self, client_id: str, redirect_uri: str, **params: str) -> str:
        """The URL a client sends the browser to; add ``code_challenge``, ``state``... as `params`."""
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid"}
        return f"{self.issuer}{_OIDC}/auth?{urlencode({**query, **params})}"

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
        reply = self._route(request)
        responder.send(reply.status, reply.headers, reply.body)

    def _route(self, request: RecordedRequest) -> Reply:
        endpoints = f"/realms/{self.realm}{_OIDC}"
        routes: dict[str, tuple[tuple[str, ...], Callable[[RecordedRequest], Reply]]] = {
            f"{endpoints}/auth": (("GET", "POST"), self._login.authorize),
            f"{endpoints}/logout": (("GET", "POST"), self._login.logout),
            f"{endpoints}/token": (("POST", "OPTIONS"), self._token_endpoint),
            f"{endpoints}/userinfo": (("GET", "POST", "OPTIONS"), self._userinfo),
            f"{endpoints}/certs": (("GET",), self._certs),
            f"/realms/{self.realm}/.well-known/openid-configuration": (("GET",), self._discovery_document),
        }
        methods, handler = routes.get(request.path, ((), None))
        if handler is None:
            return Reply.json(404, {"error": "Realm does not exist"})
        if request.method not in methods:
            return Reply.json(405, {"error": "method not allowed"})
        return handler(request)

    def _certs(self, request: RecordedRequest) -> Reply:
        ok = self.jwks_status == 200  # Keycloak lets any origin read its keys and discovery document
        return Reply.json(self.jwks_status, self.jwks() if ok else {"error": "unavailable"}, _cors(request))

    def _discovery_document(self, request: RecordedRequest) -> Reply:
        return Reply.json(200, self._discovery(), _cors(request))

    def _discovery(self) -> dict[str, Any]:
        endpoints = f"{self.issuer}{_OIDC}"
        return {
            "issuer": self.issuer, "authorization_endpoint": f"{endpoints}/auth",
            "token_endpoint": f"{endpoints}/token", "userinfo_endpoint": f"{endpoints}/userinfo",
            "end_session_endpoint": f"{endpoints}/logout", "jwks_uri": f"{endpoints}/certs",
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "response_types_supported": ["code"], "response_modes_supported": ["query", "fragment"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"], "code_challenge_methods_supported": ["S256", "plain"],
            "scopes_supported": ["openid", *_DEFAULT_SCOPES], "claims_parameter_supported": False,
            "frontchannel_logout_supported": False, "backchannel_logout_supported": False,
        }  # fmt: skip

    def _token_endpoint(self, request: RecordedRequest) -> Reply:
        if request.method == "OPTIONS":  # Keycloak answers every preflight; the POST itself is origin-checked
            return Reply(200, _cors(request, preflight=True))
        if request.method != "POST":
            return Reply.json(405, {"error": "HTTP 405 Method Not Allowed"})
        form = _form(request)
        client = self._accounts.client(form.get("client_id"))
        cors = _cors(request) if client is not None and client.allows_origin(request.headers.get("origin", "")) else {}
        reply = self._token(form, client)
        return replace(reply, headers={**reply.headers, "cache-control": "no-store", "pragma": "no-cache", **cors})

    def _token(self, form: dict[str, str], client: Client | None) -> Reply:
        grant = form.get("grant_type")
        if grant is None:
            return _oauth_error("invalid_request", "Missing form parameter: grant_type")
        if "client_id" not in form:
            return _oauth_error("invalid_client", "Missing client_id parameter")
        if client is None:
            return _oauth_error("invalid_client", "Invalid client or Invalid client credentials", status=401)
        if grant == "authorization_code":
            return self._code_grant(form, client)
        if grant == "refresh_token":
            return self._refresh_grant(form, client)
        if grant == "client_credentials":
            return _oauth_error("unauthorized_client", "Public client not allowed to retrieve service account", 401)
        if grant == "password":
            return _oauth_error("unauthorized_client", "Client not allowed for direct access grants")
        return _oauth_error("unsupported_grant_type", "Unsupported grant_type")

    def _code_grant(self, form: dict[str, str], client: Client) -> Reply:
        """Keycloak's AuthorizationCodeGrantType checks, in its order and with its messages."""
        if "code" not in form:
            return _oauth_error("invalid_request", "Missing parameter: code")
        code, expired = self._accounts.redeem(form["code"])
        if code is None:
            return _oauth_error("invalid_grant", "Code not valid")
        if expired:
            return _oauth_error("invalid_grant", "Code is expired")
        session = self._accounts.session(code.session_id)
        if code.redirect_uri != form.get("redirect_uri"):
            return _oauth_error("invalid_grant", "Incorrect redirect_uri")
        if code.client_id != client.client_id:
            return _oauth_error("invalid_grant", "Auth error: Found different client_id in clientSession")
        if session is None:
            return _oauth_error("invalid_grant", "Session not active")
        problem = _pkce_failure(form.get("code_verifier"), code.code_challenge, code.code_challenge_method)
        if problem:
            return _oauth_error("invalid_grant", problem)
        return Reply.json(200, self._tokens(client, session, code.scope, code.nonce))

    def _refresh_grant(self, form: dict[str, str], client: Client) -> Reply:
        if "refresh_token" not in form:
            return _oauth_error("invalid_request", "No refresh token")
        try:
            claims = jwt.decode(form["refresh_token"], self._refresh_secret, algorithms=["HS512"],
                                options={"verify_aud": False, "require": ["exp", "sid", "azp"]})  # fmt: skip
        except jwt.ExpiredSignatureError:
            return _oauth_error("invalid_grant", "Token is not active")
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "Invalid refresh token")
        if claims.get("typ") != "Refresh":
            return _oauth_error("invalid_grant", "Invalid refresh token")
        if claims["azp"] != client.client_id:
            return _oauth_error(
                "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"
            )
        session = self._accounts.session(claims["sid"])
        if session is None:
            return _oauth_error("invalid_grant", "Session not active")
        return Reply.json(200, self._tokens(client, session, claims.get("scope", "openid"), None))

    def _tokens(self, client: Client, session: SsoSession, scope: str, nonce: str | None) -> dict[str, Any]:
        """Keycloak's AccessTokenResponse; the access token is `mint`'s, so the gateway takes it as any other."""
        user, now = session.user, int(time.time())
        scopes = " ".join(dict.fromkeys([*scope.split(), *_DEFAULT_SCOPES]))
        common = {"azp": client.client_id, "sid": session.id, "auth_time": session.auth_time,
                  "preferred_username": user.username, **({"email": user.email} if user.email else {})}  # fmt: skip
        access = self.mint(
            user.id, roles=user.roles, tier=user.tier, expires_in=self.access_token_lifespan,
            extra={**common, "session_state": session.id, "scope": scopes, "allowed-origins": client.allowed_origins()},
        )  # fmt: skip
        refresh = jwt.encode(
            {"exp": now + self.refresh_token_lifespan, "iat": now, "jti": str(uuid.uuid4()), "iss": self.issuer,
             "aud": self.issuer, "sub": user.id, "typ": "Refresh", "azp": client.client_id, "sid": session.id,
             "scope": scopes}, self._refresh_secret, algorithm="HS512",
        )  # fmt: skip
        answer: dict[str, Any] = {"access_token": access, "expires_in": self.access_token_lifespan,
                                  "refresh_expires_in": self.refresh_token_lifespan, "refresh_token": refresh,
                                  "token_type": "Bearer"}  # fmt: skip
        if "openid" in scopes.split():
            answer["id_token"] = self.sign({
                "exp": now + self.access_token_lifespan, "iat": now, "jti": str(uuid.uuid4()), "iss": self.issuer,
                "aud": client.client_id, "sub": user.id, "typ": "ID", **common, "at_hash": _at_hash(access),
                "email_verified": user.email is not None, **({"nonce": nonce} if nonce is not None else {}),
            })  # fmt: skip
        return {**answer, "not-before-policy": 0, "session_state": session.id, "scope": scopes}

    def _userinfo(self, request: RecordedRequest) -> Reply:
        """The token's user, for a bearer access token of a live session; CORS for the token's allowed origins."""
        if request.method == "OPTIONS":
            return Reply(200, {**_cors(request, preflight=True), "access-control-allow-methods": "GET, POST, OPTIONS"})
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims = self._verify(token, typ="Bearer", verify_exp=True) if scheme.lower() == "bearer" else None
        except jwt.PyJWTError:
            claims = None
        user = self._accounts.user_by_id(claims["sub"]) if claims else None
        if claims is None or user is None or self._accounts.session(claims.get("sid")) is None:
            error = {"error": "invalid_token", "error_description": "Token verification failed"}
            challenge = (
                f'Bearer realm="{self.realm}", error="invalid_token", error_description="Token verification failed"'
            )
            return Reply.json(401, error, {"www-authenticate": challenge})
        cors = _cors(request) if request.headers.get("origin") in claims.get("allowed-origins", []) else {}
        document = {"sub": user.id, "email_verified": user.email is not None, "preferred_username": user.username}
        return Reply.json(200, {**document, **({"email": user.email} if user.email else {})}, cors)

    def _verify_id_token(self, token: str) -> dict[str, Any]:
        """Claims of an ID token this realm signed; expired ones still name a session, as Keycloak accepts them."""
        return self._verify(token, typ="ID", verify_exp=False)

    def _verify(self, token: str, *, typ: str, verify_exp: bool) -> dict[str, Any]:
        """Claims of a token this realm signed with a key it still publishes, whatever its audience."""
        header = jwt.get_unverified_header(token)
        with self._keys_lock:
            key = next((k for k in self._signing if k.kid == header.get("kid")), None)
        if key is None:
            raise jwt.InvalidKeyError("unknown kid")
        claims: dict[str, Any] = jwt.decode(
            token, key.private.public_key(), algorithms=["RS256"], issuer=self.issuer,
            options={"verify_aud": False, "verify_exp": verify_exp},
        )  # fmt: skip
        if claims.get("typ") != typ:
            raise jwt.InvalidTokenError(f"not a {typ} token")
        return claims


@functools.cache
def _unpublished_key(purpose: str) -> _Key:
    """Keys that never sign realm tokens are shared by every fake: RSA key generation is slow."""
    return _Key.new()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(header: Mapping[str, Any], claims: Mapping[str, Any], signer: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64encode(json.dumps(header).encode())}.{_b64encode(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64encode(signer(signing_input.encode()))}"


def _form(request: RecordedRequest) -> dict[str, str]:
    """Form parameters; Keycloak reads nothing from other bodies, so a JSON body is a request without any."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return dict(parse_qsl(request.body.decode(errors="replace")))


def _oauth_error(error: str, description: str, status: int = 400) -> Reply:
    return Reply.json(status, {"error": error, "error_description": description})


def _pkce_failure(verifier: str | None, challenge: str | None, method: str | None) -> str | None:
    """Keycloak's PkceUtils checks at the token endpoint, as an error_description or None."""
    if challenge is None:
        return "PKCE code verifier specified but challenge not present in authorization" if verifier else None
    if verifier is None:
        return "PKCE code verifier not specified"
    if not 43 <= len(verifier) <= 128 or not all(c.isascii() and (c.isalnum() or c in "-._~") for c in verifier):
        return "PKCE verification failed: Invalid code verifier"
    expected = s256(verifier) if method == "S256" else verifier
    return None if hmac.compare_digest(expected, challenge) else "PKCE verification failed: Code mismatch"


def _at_hash(access_token: str) -> str:
    return _b64encode(hashlib.sha256(access_token.encode()).digest()[:16])


def _cors(request: RecordedRequest, *, preflight: bool = False) -> dict[str, str]:
    """Keycloak's DefaultCors headers for an allowed request (the caller decides whether the origin is allowed)."""
    origin = request.headers.get("origin")
    if origin is None:
        return {}
    headers = {"access-control-allow-origin": origin, "access-control-allow-credentials": "true"}
    if preflight:
        headers |= {"access-control-allow-methods": "POST, OPTIONS", "access-control-allow-headers": _ALLOW_HEADERS,
                    "access-control-max-age": "3600"}  # fmt: skip
    return headers
