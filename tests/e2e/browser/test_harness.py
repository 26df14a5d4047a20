"""The browser harness end to end: Chromium logs in on the fake Keycloak's page, lands on a loopback app that swaps
the code for tokens from the page's own script (so CORS is the browser's to enforce), and screenshots are saved;
then asyncio still runs in the same session.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from playwright.sync_api import Page, expect

from fakes.keycloak import FakeKeycloak, pkce_pair
from fakes.loopback_server import HttpRequest, LoopbackServer, Responder
from support.browser import ARTIFACTS, screenshot

CLIENT = "harness-app"


class CallbackApp:
    """A stand-in single-page app on its own port: ``/callback`` redeems the code with `fetch`, like a dashboard."""

    def __init__(self, keycloak: FakeKeycloak) -> None:
        self.keycloak = keycloak
        self.verifier, self.challenge = pkce_pair()
        self._server = LoopbackServer(self._handle, lambda _: None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    async def _handle(self, request: HttpRequest, responder: Responder) -> None:
        if request.path != "/callback":
            responder.send(404, {"content-type": "text/plain"}, b"not found")
            return
        page = _CALLBACK_PAGE.replace("CONFIG", json.dumps({
            "token": f"{self.keycloak.issuer}/protocol/openid-connect/token", "client_id": CLIENT,
            "redirect_uri": f"{self.url}/callback", "code_verifier": self.verifier,
        }))  # fmt: skip
        responder.send(200, {"content-type": "text/html; charset=utf-8"}, page.encode())


_CALLBACK_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body><h1>Dashboard stand-in</h1><p>Signed in as <strong id="who">…</strong></p>
<pre id="token" style="white-space: pre-wrap; word-break: break-all"></pre>
<script>
const config = CONFIG;
const params = new URLSearchParams(location.search);
const form = new URLSearchParams({grant_type: "authorization_code", code: params.get("code"),
  redirect_uri: config.redirect_uri, client_id: config.client_id, code_verifier: config.code_verifier});
fetch(config.token, {method: "POST", body: form})
  .then((answer) => answer.json())
  .then((tokens) => {
    const claims = JSON.parse(atob(tokens.id_token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")));
    document.getElementById("token").textContent = tokens.access_token;
    document.getElementById("who").textContent = claims.preferred_username;
    history.replaceState(null, "", location.pathname);
  })
  .catch((error) => { document.getElementById("who").textContent = "failed: " + error; });
</script></body></html>"""


@pytest.fixture(scope="module")
def realm() -> Iterator[FakeKeycloak]:
    with FakeKeycloak() as keycloak:
        keycloak.add_user("alice", "correct horse", roles=["switchboard-admin"])
        yield keycloak


@pytest.fixture(scope="module")
def app(realm: FakeKeycloak) -> Iterator[CallbackApp]:
    app = CallbackApp(realm)
    app.start()
    realm.add_client(CLIENT, [f"{app.url}/callback"], [app.url])
    try:
        yield app
    finally:
        app.stop()


def sign_in_url(realm: FakeKeycloak, app: CallbackApp) -> str:
    return realm.authorization_url(
        CLIENT, f"{app.url}/callback", code_challenge=app.challenge, code_challenge_method="S256", state="harness"
    )


def access_claims(realm: FakeKeycloak, token: str) -> dict[str, Any]:
    jwks = httpx.get(f"{realm.issuer}/protocol/openid-connect/certs", timeout=5).json()
    key = next(jwt.PyJWK.from_dict(k) for k in jwks["keys"] if k["kid"] == jwt.get_unverified_header(token)["kid"])
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], audience=realm.audience, issuer=realm.issuer)
    return claims


def test_a_browser_signs_in_on_the_login_page_and_the_app_gets_tokens(
    page: Page, realm: FakeKeycloak, app: CallbackApp
) -> None:
    page.goto(sign_in_url(realm, app))
    expect(page).to_have_title("Sign in to switchboard")
    screenshot(page, "harness/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.locator("#kc-login").click()
    expect(page.locator("#input-error")).to_have_text("Invalid username or password.")
    expect(page.get_by_label("Username")).to_have_value("alice")
    screenshot(page, "harness/login-error")

    page.get_by_label("Password").fill("correct horse")
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator("#who")).to_have_text("alice")
    assert page.url == f"{app.url}/callback", "the app removed the code from the address bar"
    path = screenshot(page, "harness/signed-in")
    assert path == ARTIFACTS / "harness" / "signed-in.png" and path.stat().st_size > 0
    claims = access_claims(realm, page.locator("#token").inner_text())
    assert claims["realm_access"]["roles"] == ["switchboard-admin"] and claims["azp"] == CLIENT
    assert [code.used for code in realm.issued_codes] == [True]


def test_the_phone_page_is_a_small_touch_screen(phone: Page, realm: FakeKeycloak, app: CallbackApp) -> None:
    phone.goto(sign_in_url(realm, app))
    assert phone.evaluate("[window.innerWidth, navigator.maxTouchPoints > 0]") == [390, True]
    expect(phone.locator("#kc-login")).to_be_visible()
    screenshot(phone, "harness/login-phone")


def test_asyncio_run_works_after_the_browser_started() -> None:
    assert asyncio.run(asyncio.sleep(0, result="ran")) == "ran"


async def test_the_session_loop_runs_after_the_browser_started() -> None:
    assert await asyncio.sleep(0, result="ran") == "ran"
