"""The browser half of the fake Keycloak's authorization-code flow: clients, users, login page, SSO sessions, logout.

Keycloak's rules are kept where a dashboard could trip over them: an unknown client or a redirect_uri the client does
not allow gets an error page, never a redirect; every later mistake goes back to the client as ``error=``; PKCE is
checked as a client that enforces it does; codes are single use, bound to client, redirect_uri and challenge, and die
after `code_lifespan` seconds. The token endpoint, which redeems the codes, lives with the signing keys in `keycloak`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .recording_server import RecordedRequest

__all__ = ["Client", "IssuedCode", "LoginFlow", "LoginRealm", "Reply", "SsoSession", "User", "pkce_pair"]

COOKIE = "KEYCLOAK_IDENTITY"
_CREDENTIAL_FIELDS = frozenset({"username", "password", "credentialId", "login"})  # the login form's own fields
_PKCE_VALUE = re.compile(r"[0-9A-Za-z\-._~]{43,128}")


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge), as a client would make them."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Reply:
    """One HTTP answer, built away from the wire so handlers stay plain functions."""

    status: int
    headers: dict[str, str]
    body: bytes = b""

    @classmethod
    def json(cls, status: int, document: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Reply:
        return cls(status, {"content-type": "application/json", **(headers or {})}, json.dumps(document).encode())

    @classmethod
    def page(cls, status: int, page: str, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(status, {"content-type": "text/html; charset=utf-8", "cache-control": "no-store", **(headers or {})},
                   page.encode())  # fmt: skip

    @classmethod
    def redirect(cls, location: str, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(302, {"location": location, "cache-control": "no-store", **(headers or {})})


@dataclass(frozen=True)
class Client:
    """A public OIDC client: redirect URIs may end in ``*``, a web origin may be ``+`` (the redirect URIs') or ``*``."""

    client_id: str
    redirect_uris: tuple[str, ...]
    web_origins: tuple[str, ...] = ()
    pkce_method: str | None = "S256"
    """The challenge method the client enforces (Keycloak's ``pkce.code.challenge.method``); None: PKCE optional."""
    post_logout_redirect_uris: tuple[str, ...] = ("+",)

    def allows_redirect(self, uri: str) -> bool:
        return _matches_any(self.redirect_uris, uri)

    def allows_logout_redirect(self, uri: str) -> bool:
        patterns = [p for p in self.post_logout_redirect_uris if p != "+"]
        return _matches_any([*patterns, *(self.redirect_uris if "+" in self.post_logout_redirect_uris else ())], uri)

    def allows_origin(self, origin: str) -> bool:
        origins = set(self.web_origins)
        if "+" in origins:
            origins |= {_origin(uri) for uri in self.redirect_uris}
        return "*" in origins or origin in origins

    def allowed_origins(self) -> list[str]:
        """The ``allowed-origins`` claim Keycloak writes into access tokens."""
        extra = [_origin(uri) for uri in self.redirect_uris] if "+" in self.web_origins else []
        return sorted({origin for origin in [*self.web_origins, *extra] if origin != "+"})


@dataclass(frozen=True)
class User:
    username: str
    password: str = field(repr=False)
    id: str
    roles: tuple[str, ...] = ()
    tier: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class SsoSession:
    """A Keycloak user session: the ``sid``/``session_state`` of every token, ended by logout or `end_sessions`."""

    id: str
    user: User
    auth_time: int
    active: bool = True


@dataclass(frozen=True)
class IssuedCode:
    code: str
    client_id: str
    redirect_uri: str
    user: User
    session_id: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    issued_at: float
    """`time.monotonic()` when the code was issued."""
    used: bool = False


class LoginRealm:
    """Clients, users, sessions and codes of one realm; shared by the server thread and the test, so locked."""

    def __init__(self) -> None:
        self.code_lifespan = 60.0
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._users: dict[str, User] = {}  # by lower-case username: Keycloak usernames are case-insensitive
        self._sessions: dict[str, SsoSession] = {}
        self._codes: dict[str, IssuedCode] = {}

    def add_client(self, client: Client) -> Client:
        with self._lock:
            self._clients[client.client_id] = client
        return client

    def add_user(self, user: User) -> User:
        with self._lock:
            self._users[user.username.lower()] = user
        return user

    def client(self, client_id: str | None) -> Client | None:
        with self._lock:
            return self._clients.get(client_id or "")

    def user_by_id(self, user_id: str) -> User | None:
        with self._lock:
            return next((user for user in self._users.values() if user.id == user_id), None)

    def authenticate(self, username: str, password: str) -> User | None:
        with self._lock:
            user = self._users.get(username.strip().lower())
        if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
            return None
        return user

    def open_session(self, user: User) -> SsoSession:
        session = SsoSession(str(uuid.uuid4()), user, int(time.time()))
        with self._lock:
            self._sessions[session.id] = session
        return session

    def session(self, session_id: str | None) -> SsoSession | None:
        """The session if it is still active."""
        with self._lock:
            session = self._sessions.get(session_id or "")
        return session if session is not None and session.active else None

    def sessions(self) -> list[SsoSession]:
        with self._lock:
            return list(self._sessions.values())

    def end_sessions(self, predicate: Callable[[SsoSession], bool]) -> int:
        with self._lock:
            ended = [s for s in self._sessions.values() if s.active and predicate(s)]
            for session in ended:
                self._sessions[session.id] = replace(session, active=False)
        return len(ended)

    def issue_code(self, **fields: Any) -> IssuedCode:
        code = IssuedCode(code=f"{uuid.uuid4()}.{uuid.uuid4()}", issued_at=time.monotonic(), **fields)
        with self._lock:
            self._codes[code.code] = code
        return code

    def codes(self) -> list[IssuedCode]:
        with self._lock:
            return list(self._codes.values())

    def redeem(self, code: str) -> tuple[IssuedCode | None, bool]:
        """(the code, whether it expired), marking it used; (None, False) for an unknown or already used code."""
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.used:
                return None, False
            self._codes[code] = replace(issued, used=True)
        return issued, time.monotonic() - issued.issued_at > self.code_lifespan


@dataclass(frozen=True)
class _AuthRequest:
    """An authorization request whose client and redirect_uri passed, so errors may now go back to the client."""

    client: Client
    redirect_uri: str
    params: dict[str, str]
    issuer: str

    def back(self, values: Mapping[str, str], headers: Mapping[str, str] | None = None) -> Reply:
        state = {"state": self.params["state"]} if "state" in self.params else {}
        # Keycloak's order: state, session_state, iss, code on success; state, error..., iss on failure.
        ordered = {**state, **values, "iss": self.issuer} if "error" in values else {**state, **values}
        if "code" in values:
            ordered = {**state, "session_state": values["session_state"], "iss": self.issuer, "code": values["code"]}
        answer = urlencode(ordered)
        if self.params.get("response_mode") == "fragment":
            return Reply.redirect(f"{self.redirect_uri}#{answer}", headers)
        separator = "&" if "?" in self.redirect_uri else "?"
        return Reply.redirect(f"{self.redirect_uri}{separator}{answer}", headers)

    def error(self, error: str, description: str | None = None) -> Reply:
        return self.back({"error": error, **({"error_description": description} if description else {})})


class LoginFlow:
    """The ``auth`` and ``logout`` endpoints; `verify_id_token` checks an ``id_token_hint`` with the realm's keys."""

    def __init__(
        self, realm: LoginRealm, realm_name: str, issuer: Callable[[], str], verify_id_token: Callable[[str], Any]
    ) -> None:
        self.realm = realm
        self._name = realm_name
        self._issuer = issuer
        self._verify_id_token = verify_id_token

    @property
    def _base(self) -> str:
        return f"/realms/{self._name}/protocol/openid-connect"

    def authorize(self, request: RecordedRequest) -> Reply:
        """GET (or a POSTed authorization request) shows the form; a POST with credentials is the form coming back."""
        form = dict(parse_qsl(request.body.decode(errors="replace"))) if request.method == "POST" else {}
        params = {k: v for k, v in {**form, **dict(parse_qsl(request.query))}.items() if k not in _CREDENTIAL_FIELDS}
        checked = self._check(params)
        if isinstance(checked, Reply):
            return checked
        prompt = params.get("prompt", "")
        if "username" in form:
            user = self.realm.authenticate(form["username"], form.get("password", ""))
            if user is None:
                return Reply.page(200, self._login_page(params, form["username"], failed=True))
            session = self.realm.open_session(user)
            return self._grant(checked, session, {"set-cookie": self._cookie(session.id)})
        existing = self.realm.session(_cookies(request).get(COOKIE))
        if existing is not None and prompt != "login":
            return self._grant(checked, existing)
        if prompt == "none":
            return checked.error("login_required")
        return Reply.page(200, self._login_page(params, params.get("login_hint", "")))

    def logout(self, request: RecordedRequest) -> Reply:
        form = dict(parse_qsl(request.body.decode(errors="replace"))) if request.method == "POST" else {}
        params = {**form, **dict(parse_qsl(request.query))}
        hint, client_id = params.get("id_token_hint"), params.get("client_id")
        claims: dict[str, Any] = {}
        if hint is not None:
            try:
                claims = self._verify_id_token(hint)
            except Exception:  # noqa: BLE001 - any verification failure is the same refusal
                return Reply.page(400, _error_page(self._name, "Invalid parameter: id_token_hint"))
            client_id = client_id or claims.get("azp")
        target = params.get("post_logout_redirect_uri")
        if target is not None:
            client = self.realm.client(client_id)
            if client is None:
                return Reply.page(400, _error_page(self._name, "Missing parameters: id_token_hint"))
            if not client.allows_logout_redirect(target):
                return Reply.page(400, _error_page(self._name, "Invalid redirect uri"))
        if hint is None and params.get("confirm") != "yes":
            return Reply.page(200, _confirm_page(self._name, f"{self._base}/logout", params))
        sid = claims.get("sid") or _cookies(request).get(COOKIE)
        self.realm.end_sessions(lambda session: session.id == sid)
        expire = {"set-cookie": f"{COOKIE}=; Max-Age=0; Path=/realms/{self._name}/; HttpOnly"}
        if target is None:
            return Reply.page(200, _page(self._name, "You are logged out", ""), expire)
        state = f"{'&' if '?' in target else '?'}{urlencode({'state': params['state']})}" if "state" in params else ""
        return Reply.redirect(target + state, expire)

    def _check(self, params: dict[str, str]) -> _AuthRequest | Reply:
        """Keycloak's order: client and redirect_uri (error page), then response type and PKCE (back to the client)."""
        if "client_id" not in params:
            return Reply.page(400, _error_page(self._name, "Missing parameter: client_id"))
        client = self.realm.client(params["client_id"])
        if client is None:
            return Reply.page(400, _error_page(self._name, "Client not found."))
        redirect_uri = params.get("redirect_uri")
        if redirect_uri is None or not client.allows_redirect(redirect_uri):
            return Reply.page(400, _error_page(self._name, "Invalid parameter: redirect_uri"))
        checked = _AuthRequest(client, redirect_uri, params, self._issuer())
        if params.get("response_mode", "query") not in ("query", "fragment"):
            return replace(checked, params={**params, "response_mode": "query"}).error(
                "invalid_request", "Invalid parameter: response_mode"
            )
        if "response_type" not in params:
            return checked.error("invalid_request", "Missing parameter: response_type")
        if params["response_type"] != "code":
            return checked.error("unsupported_response_type")
        problem = _pkce_problem(client, params.get("code_challenge"), params.get("code_challenge_method"))
        return checked.error("invalid_request", problem) if problem else checked

    def _grant(self, request: _AuthRequest, session: SsoSession, headers: Mapping[str, str] | None = None) -> Reply:
        params = request.params
        code = self.realm.issue_code(
            client_id=request.client.client_id, redirect_uri=request.redirect_uri, user=session.user,
            session_id=session.id, scope=params.get("scope", "openid"), nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method", "plain") if "code_challenge" in params else None,
        )  # fmt: skip
        return request.back({"session_state": session.id, "code": code.code}, headers)

    def _cookie(self, session_id: str) -> str:
        return f"{COOKIE}={session_id}; Path=/realms/{self._name}/; HttpOnly; SameSite=Lax"

    def _login_page(self, params: Mapping[str, str], username: str, *, failed: bool = False) -> str:
        error = ('<div class="alert-error" role="alert"><span id="input-error" aria-live="polite">'
                 "Invalid username or password.</span></div>") if failed else ""  # fmt: skip
        action = html.escape(f"{self._base}/auth?{urlencode(params)}")
        invalid = "true" if failed else ""
        form = f"""{error}
<form id="kc-form-login" action="{action}" method="post">
  <label for="username">Username or email</label>
  <input id="username" name="username" type="text" value="{html.escape(username)}" autofocus
         autocomplete="username" aria-invalid="{invalid}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" aria-invalid="{invalid}">
  <input id="id-hidden-input" name="credentialId" type="hidden">
  <button id="kc-login" name="login" type="submit">Sign In</button>
</form>"""
        return _page(self._name, "Sign in to your account", form)


def _pkce_problem(client: Client, challenge: str | None, method: str | None) -> str | None:
    """Keycloak's AuthorizationEndpointChecker.checkPKCEParams, as an error_description or None."""
    if client.pkce_method:
        if method is None:
            return "Missing parameter: code_challenge_method"
        if method != client.pkce_method:
            return "Invalid parameter: code challenge method is not matching the configured one"
        if challenge is None:
            return "Missing parameter: code_challenge"
    elif challenge is None:
        return "Missing parameter: code_challenge" if method is not None else None
    elif method not in (None, "S256", "plain"):
        return "Invalid parameter: code_challenge_method"
    return None if _PKCE_VALUE.fullmatch(challenge) else "Invalid parameter: code_challenge"


def _matches_any(patterns: Sequence[str], uri: str) -> bool:
    return any(uri.startswith(p[:-1]) if p.endswith("*") else uri == p for p in patterns)


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _cookies(request: RecordedRequest) -> dict[str, str]:
    pairs = (item.strip().partition("=") for item in request.headers.get("cookie", "").split(";"))
    return {name: value for name, _, value in pairs if name}


_STYLE = """body{margin:0;background:#f0f0f0;font:16px system-ui,sans-serif;color:#151515}
#kc-header-wrapper{padding:2rem 1rem 1rem;text-align:center;font-size:1.75rem;letter-spacing:.1em}
main{box-sizing:border-box;max-width:28rem;margin:0 auto;padding:2rem;background:#fff;border-top:4px solid #06c}
h1{margin:0 0 1.5rem;font-size:1.5rem;text-align:center}label{display:block;margin:1rem 0 .25rem}
input:not([type=hidden]){box-sizing:border-box;width:100%;padding:.5rem;font:inherit}
button{width:100%;margin-top:1.5rem;padding:.6rem;border:0;background:#06c;color:#fff;font:inherit}
.alert-error{padding:.75rem;background:#faeae8;border-left:4px solid #c9190b}"""


def _page(realm: str, title: str, content: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to {html.escape(realm)}</title><style>{_STYLE}</style></head>
<body id="keycloak-bg"><div id="kc-header-wrapper">{html.escape(realm.upper())}</div>
<main><h1 id="kc-page-title">{html.escape(title)}</h1>{content}</main></body></html>"""


def _error_page(realm: str, message: str) -> str:
    return _page(realm, "We are sorry...", f'<p id="kc-error-message" class="instruction">{html.escape(message)}</p>')


def _confirm_page(realm: str, action: str, params: Mapping[str, str]) -> str:
    keep = ("client_id", "post_logout_redirect_uri", "state", "ui_locales")
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">' for name in keep if name in params
    )
    form = (f'<p class="instruction">Do you want to log out?</p><form id="kc-logout-confirm" action="{action}" '
            f'method="post">{hidden}<input type="hidden" name="confirm" value="yes">'
            '<button id="kc-logout" name="confirmLogout" type="submit">Logout</button></form>')  # fmt: skip
    return _page(realm, "Logging out", form)
