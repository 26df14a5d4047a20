"""The fake Keycloak's authorization-code flow with PKCE, driven over real HTTP as a browser and a dashboard would."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from fakes.keycloak import FakeKeycloak, pkce_pair
from switchboard.api_gateway.identity.jwt_verifier import JwtVerifier

APP = "http://127.0.0.1:5173"
CALLBACK = f"{APP}/auth/callback"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def realm() -> Iterator[FakeKeycloak]:
    with FakeKeycloak() as fake:
        fake.add_client("dashboard", [f"{APP}/auth/*"], [APP])
        fake.add_user("alice", "correct horse", user_id="user-alice", roles=["switchboard-admin"], tier="pro")
        yield fake


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """Keeps cookies like a browser, but never follows redirects: each hop is checked."""
    with httpx.Client(timeout=5) as client:
        yield client


def login(realm: FakeKeycloak, browser: httpx.Client, **params: str) -> tuple[str, dict[str, str]]:
    """Log alice in through the form; (code_verifier, the parameters the browser was sent back with)."""
    verifier, challenge = pkce_pair()
    query = {"code_challenge": challenge, "code_challenge_method": "S256", "state": "s-1", **params}
    url = realm.authorization_url("dashboard", CALLBACK, **query)
    page = browser.get(url)
    assert page.status_code == 200 and 'id="kc-login"' in page.text
    answer = browser.post(url, data={"username": "alice", "password": "correct horse"})
    return verifier, redirected_to(answer, CALLBACK)


def redirected_to(answer: httpx.Response, prefix: str) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(prefix), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def exchange(realm: FakeKeycloak, code: str, verifier: str, **overrides: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": "dashboard",
            "code_verifier": verifier, **overrides}  # fmt: skip
    return httpx.post(f"{realm.issuer}/protocol/openid-connect/token", data=form, timeout=5)


def token_error(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()
    return answer.status_code, body["error"], body.get("error_description", "")


def verified(realm: FakeKeycloak, token: str, audience: str) -> dict[str, Any]:
    """Check a token as the gateway does: the realm's JWKS, RS256 only, issuer and audience."""
    jwks = httpx.get(f"{realm.issuer}/protocol/openid-connect/certs", timeout=5).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK.from_dict(entry) for entry in jwks["keys"] if entry["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=realm.issuer)
    return claims


def test_discovery_advertises_the_code_flow_endpoints(realm: FakeKeycloak) -> None:
    document = httpx.get(f"{realm.issuer}/.well-known/openid-configuration", timeout=5).json()
    base = f"{realm.issuer}/protocol/openid-connect"
    assert document["authorization_endpoint"] == f"{base}/auth"
    assert document["token_endpoint"] == f"{base}/token"
    assert document["end_session_endpoint"] == f"{base}/logout"
    assert document["code_challenge_methods_supported"] == ["S256", "plain"]


def test_the_whole_flow_ends_in_tokens_signed_by_the_realm(realm: FakeKeycloak, browser: httpx.Client) -> None:
    verifier, back = login(realm, browser, nonce="n-42")
    assert back["state"] == "s-1" and back["iss"] == realm.issuer and back["session_state"]
    answer = exchange(realm, back["code"], verifier)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert list(tokens) == ["access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type",
                            "id_token", "not-before-policy", "session_state", "scope"]  # fmt: skip
    assert tokens["token_type"] == "Bearer" and tokens["session_state"] == back["session_state"]
    access = verified(realm, tokens["access_token"], realm.audience)
    assert access["sub"] == "user-alice" and access["realm_access"] == {"roles": ["switchboard-admin"]}
    assert access["switchboard_tier"] == "pro" and access["azp"] == "dashboard"
    assert access["allowed-origins"] == [APP] and access["exp"] - access["iat"] == tokens["expires_in"] == 300
    identity = verified(realm, tokens["id_token"], "dashboard")
    assert identity["nonce"] == "n-42" and identity["preferred_username"] == "alice"
    assert identity["sid"] == access["sid"] == back["session_state"]


async def test_the_gateway_verifier_accepts_the_access_token(realm: FakeKeycloak) -> None:
    with httpx.Client(timeout=5) as browser:
        verifier, back = login(realm, browser)
    tokens = exchange(realm, back["code"], verifier).json()
    async with httpx.AsyncClient() as http:
        claims = await JwtVerifier(issuer=realm.issuer, audience=realm.audience, http=http).verify(
            tokens["access_token"]
        )
    assert (claims.subject, claims.tier, claims.roles) == ("user-alice", "pro", frozenset({"switchboard-admin"}))


def test_a_wrong_password_shows_the_form_again(realm: FakeKeycloak, browser: httpx.Client) -> None:
    url = realm.authorization_url("dashboard", CALLBACK, code_challenge=pkce_pair()[1], code_challenge_method="S256")
    page = browser.post(url, data={"username": "alice", "password": "wrong"})
    assert page.status_code == 200
    assert "Invalid username or password." in page.text and 'value="alice"' in page.text
    assert realm.issued_codes == [] and "set-cookie" not in page.headers


@pytest.mark.parametrize(
    ("client_id", "redirect_uri", "message"),
    [
        ("nobody", CALLBACK, "Client not found."),
        ("dashboard", "http://127.0.0.1:6666/auth/callback", "Invalid parameter: redirect_uri"),
        ("dashboard", f"{APP}/elsewhere", "Invalid parameter: redirect_uri"),
    ],
)
def test_a_bad_client_or_redirect_uri_gets_an_error_page_never_a_redirect(
    realm: FakeKeycloak, browser: httpx.Client, client_id: str, redirect_uri: str, message: str
) -> None:
    page = browser.get(realm.authorization_url(client_id, redirect_uri, code_challenge=pkce_pair()[1]))
    assert page.status_code == 400 and "location" not in page.headers
    assert f'<p id="kc-error-message" class="instruction">{message}</p>' in page.text


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"code_challenge_method": "S256"}, "Missing parameter: code_challenge"),
        ({}, "Missing parameter: code_challenge_method"),
        ({"code_challenge_method": "plain", "code_challenge": "x" * 43},
         "Invalid parameter: code challenge method is not matching the configured one"),
        ({"code_challenge_method": "S256", "code_challenge": "short"}, "Invalid parameter: code_challenge"),
    ],
)  # fmt: skip
def test_pkce_mistakes_go_back_to_the_client(
    realm: FakeKeycloak, browser: httpx.Client, params: dict[str, str], description: str
) -> None:
    back = redirected_to(browser.get(realm.authorization_url("dashboard", CALLBACK, state="s", **params)), CALLBACK)
    assert back == {"state": "s", "error": "invalid_request", "error_description": description, "iss": realm.issuer}


def test_a_wrong_verifier_is_a_code_mismatch(realm: FakeKeycloak, browser: httpx.Client) -> None:
    _, back = login(realm, browser)
    answer = exchange(realm, back["code"], pkce_pair()[0])
    assert token_error(answer) == (400, "invalid_grant", "PKCE verification failed: Code mismatch")


def test_a_code_is_single_use(realm: FakeKeycloak, browser: httpx.Client) -> None:
    verifier, back = login(realm, browser)
    assert exchange(realm, back["code"], verifier).status_code == 200
    assert token_error(exchange(realm, back["code"], verifier)) == (400, "invalid_grant", "Code not valid")
    assert [code.used for code in realm.issued_codes] == [True]
    assert realm.token_requests == 2


def test_an_expired_code_is_refused(realm: FakeKeycloak, browser: httpx.Client) -> None:
    realm.code_lifespan = 0
    verifier, back = login(realm, browser)
    assert token_error(exchange(realm, back["code"], verifier)) == (400, "invalid_grant", "Code is expired")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"redirect_uri": f"{APP}/auth/other"}, (400, "invalid_grant", "Incorrect redirect_uri")),
        ({"client_id": "other"}, (400, "invalid_grant", "Auth error: Found different client_id in clientSession")),
        ({"client_id": "ghost"}, (401, "invalid_client", "Invalid client or Invalid client credentials")),
        ({"code_verifier": "!" * 43}, (400, "invalid_grant", "PKCE verification failed: Invalid code verifier")),
        ({"grant_type": "client_credentials"},
         (401, "unauthorized_client", "Public client not allowed to retrieve service account")),
        ({"grant_type": "magic"}, (400, "unsupported_grant_type", "Unsupported grant_type")),
    ],
)  # fmt: skip
def test_token_endpoint_refusals(
    realm: FakeKeycloak, browser: httpx.Client, overrides: dict[str, str], expected: tuple[int, str, str]
) -> None:
    realm.add_client("other", [f"{APP}/auth/*"])
    verifier, back = login(realm, browser)
    assert token_error(exchange(realm, back["code"], verifier, **overrides)) == expected


def test_a_missing_verifier_or_grant_type(realm: FakeKeycloak, browser: httpx.Client) -> None:
    _, back = login(realm, browser)
    token = f"{realm.issuer}/protocol/openid-connect/token"
    form = {
        "grant_type": "authorization_code",
        "code": back["code"],
        "redirect_uri": CALLBACK,
        "client_id": "dashboard",
    }
    answer = httpx.post(token, data=form, timeout=5)
    assert token_error(answer) == (400, "invalid_grant", "PKCE code verifier not specified")
    answer = httpx.post(token, json=form, timeout=5)  # Keycloak reads forms only
    assert token_error(answer) == (400, "invalid_request", "Missing form parameter: grant_type")


def test_cors_follows_the_clients_web_origins(realm: FakeKeycloak, browser: httpx.Client) -> None:
    token = f"{realm.issuer}/protocol/openid-connect/token"
    preflight = httpx.options(
        token, headers={"origin": APP, "access-control-request-method": "POST",
                        "access-control-request-headers": "content-type"}, timeout=5,
    )  # fmt: skip
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Content-Type" in preflight.headers["access-control-allow-headers"]
    verifier, back = login(realm, browser)
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": CALLBACK,
            "client_id": "dashboard", "code_verifier": verifier}  # fmt: skip
    allowed = httpx.post(token, data=form, headers={"origin": APP}, timeout=5)
    assert allowed.headers["access-control-allow-origin"] == APP
    refused = httpx.post(token, data=form, headers={"origin": "http://127.0.0.1:6666"}, timeout=5)
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert realm.token_requests == 2  # preflights are not token requests


def test_refresh_until_the_session_ends(realm: FakeKeycloak, browser: httpx.Client) -> None:
    verifier, back = login(realm, browser)
    first = exchange(realm, back["code"], verifier).json()
    token = f"{realm.issuer}/protocol/openid-connect/token"
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": "dashboard"}
    again = httpx.post(token, data=refresh, timeout=5)
    assert again.status_code == 200, again.text
    assert verified(realm, again.json()["access_token"], realm.audience)["sub"] == "user-alice"
    realm.add_client("other", [f"{APP}/*"])
    mismatch = httpx.post(token, data={**refresh, "client_id": "other"}, timeout=5)
    assert token_error(mismatch)[2] == "Invalid refresh token. Token client and authorized client don't match"
    assert realm.end_sessions("alice") == 1
    ended = httpx.post(token, data=refresh, timeout=5)
    assert token_error(ended) == (400, "invalid_grant", "Session not active")
    forged = httpx.post(token, data={**refresh, "refresh_token": first["access_token"]}, timeout=5)
    assert token_error(forged) == (400, "invalid_grant", "Invalid refresh token")


def test_the_sso_cookie_skips_the_form_until_logout(realm: FakeKeycloak, browser: httpx.Client) -> None:
    verifier, back = login(realm, browser)
    tokens = exchange(realm, back["code"], verifier).json()
    url = realm.authorization_url("dashboard", CALLBACK, code_challenge=pkce_pair()[1], code_challenge_method="S256")
    assert redirected_to(browser.get(url), CALLBACK)["session_state"] == back["session_state"]
    assert browser.get(f"{url}&prompt=login").status_code == 200  # the form again, despite the session
    logout = browser.get(
        f"{realm.issuer}/protocol/openid-connect/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": f"{APP}/auth/bye", "state": "z"},
    )
    assert redirected_to(logout, f"{APP}/auth/bye") == {"state": "z"}
    assert [session.active for session in realm.sessions("alice")] == [False]
    assert browser.get(url).status_code == 200
    assert redirected_to(browser.get(f"{url}&prompt=none&state=q"), CALLBACK)["error"] == "login_required"


def test_logout_without_a_hint_asks_first_and_checks_the_target(realm: FakeKeycloak, browser: httpx.Client) -> None:
    login(realm, browser)
    endpoint = f"{realm.issuer}/protocol/openid-connect/logout"
    bad = browser.get(endpoint, params={"client_id": "dashboard", "post_logout_redirect_uri": "http://evil.test/"})
    assert bad.status_code == 400 and "Invalid redirect uri" in bad.text
    target = {"client_id": "dashboard", "post_logout_redirect_uri": f"{APP}/auth/bye"}
    confirm = browser.get(endpoint, params=target)
    assert confirm.status_code == 200 and 'id="kc-logout"' in confirm.text
    assert realm.sessions("alice")[0].active
    done = browser.post(endpoint, data={**target, "confirm": "yes"})
    assert redirected_to(done, f"{APP}/auth/bye") == {}
    assert not realm.sessions("alice")[0].active


def test_userinfo_answers_for_a_live_session(realm: FakeKeycloak, browser: httpx.Client) -> None:
    verifier, back = login(realm, browser)
    access = exchange(realm, back["code"], verifier).json()["access_token"]
    userinfo = f"{realm.issuer}/protocol/openid-connect/userinfo"
    answer = httpx.get(userinfo, headers={"authorization": f"Bearer {access}", "origin": APP}, timeout=5)
    assert answer.json()["preferred_username"] == "alice"
    assert answer.headers["access-control-allow-origin"] == APP
    realm.end_sessions()
    assert httpx.get(userinfo, headers={"authorization": f"Bearer {access}"}, timeout=5).status_code == 401


def test_a_posted_authorization_request_shows_a_form_that_keeps_its_parameters(
    realm: FakeKeycloak, browser: httpx.Client
) -> None:
    verifier, challenge = pkce_pair()
    request = {"response_type": "code", "client_id": "dashboard", "redirect_uri": CALLBACK, "scope": "openid",
               "code_challenge": challenge, "code_challenge_method": "S256", "state": "posted"}  # fmt: skip
    page = browser.post(f"{realm.issuer}/protocol/openid-connect/auth", data=request)
    assert page.status_code == 200 and "input-error" not in page.text
    form = re.search(r'<form id="kc-form-login" action="([^"]+)"', page.text)
    assert form is not None
    action = html.unescape(form[1])
    back = redirected_to(browser.post(f"{realm.url}{action}", data={"username": "alice", "password": "correct horse"}),
                         CALLBACK)  # fmt: skip
    assert back["state"] == "posted" and exchange(realm, back["code"], verifier).status_code == 200


def test_the_fragment_response_mode(realm: FakeKeycloak, browser: httpx.Client) -> None:
    url = realm.authorization_url("dashboard", CALLBACK, code_challenge=pkce_pair()[1], code_challenge_method="S256",
                                  response_mode="fragment", state="f")  # fmt: skip
    answer = browser.post(url, data={"username": "alice", "password": "correct horse"})
    location = urlsplit(answer.headers["location"])
    assert (
        location.query == "" and parse_qs(location.fragment)["state"] == ["f"] and "code" in parse_qs(location.fragment)
    )
