"""Accounts through the real HTTP server: Keycloak JWTs, key management, scopes, tiers, admins, audit.

Runs against SQLite and PostgreSQL (the ``stack`` fixture is parametrised over both).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest

from fakes.keycloak import FakeKeycloak
from support.stack import Stack

VERSION = {"anthropic-version": "2023-06-01"}
MESSAGE = {"model": "demo", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


def user_id() -> str:
    return f"user-{secrets.token_hex(4)}"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def send(stack: Stack, headers: dict[str, str], base_url: str | None = None) -> httpx.Response:
    return httpx.post(f"{base_url or stack.base_url}/v1/messages", json=MESSAGE, headers={**VERSION, **headers})


def assert_error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert body["request_id"] == response.headers["request-id"]
    return body


def new_key(stack: Stack, token: str, **fields: Any) -> dict[str, Any]:
    response = httpx.post(f"{stack.base_url}/api/v1/api-keys", json=fields, headers=bearer(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# --- JWTs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_keycloak_token_is_accepted_in_both_headers(stack: Stack, keycloak: FakeKeycloak, header: str) -> None:
    token = keycloak.mint(user_id(), tier="enterprise")
    assert send(stack, {header: f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    "forge",
    [
        lambda kc: kc.mint("mallory", expires_in=-120),
        lambda kc: kc.mint("mallory", issuer="http://127.0.0.1:1/realms/evil"),
        lambda kc: kc.mint("mallory", audience="someone-else"),
        lambda kc: kc.mint("mallory", alg="none"),
        lambda kc: kc.mint("mallory", alg="HS256"),
        lambda kc: kc.mint_with_foreign_key("mallory"),
    ],
    ids=["expired", "wrong-issuer", "wrong-audience", "alg-none", "alg-confusion", "bad-signature"],
)
def test_bad_tokens_get_401(stack: Stack, keycloak: FakeKeycloak, forge: Any) -> None:
    token = forge(keycloak)
    body = assert_error(send(stack, bearer(token)), 401, "authentication_error")
    assert token not in body["error"]["message"]


def test_signing_key_rotation_is_followed(stack: Stack, keycloak: FakeKeycloak) -> None:
    before = keycloak.mint(user_id(), tier="enterprise")
    assert send(stack, bearer(before)).status_code == 200
    keycloak.rotate()
    after = keycloak.mint(user_id(), tier="enterprise")
    assert send(stack, bearer(after)).status_code == 200  # unknown kid → one JWKS refresh
    assert_error(send(stack, bearer(before)), 401, "authentication_error")


# --- key management --------------------------------------------------------------------------------------


def test_key_lifecycle_with_a_jwt(stack: Stack, keycloak: FakeKeycloak) -> None:
    token = keycloak.mint(user_id(), tier="enterprise")
    created = new_key(stack, token, name="laptop")
    secret = created["key"]
    assert secret.startswith("sk-ant-uc-")
    assert created["scopes"] == ["anthropic-proxy"]
    assert send(stack, {"x-api-key": secret}).status_code == 200
    listed = httpx.get(f"{stack.base_url}/api/v1/api-keys", headers=bearer(token)).json()["data"]
    assert [key["id"] for key in listed] == [created["id"]]
    assert listed[0]["last4"] == secret[-4:]
    assert secret not in str(listed)
    revoked = httpx.delete(f"{stack.base_url}/api/v1/api-keys/{created['id']}", headers=bearer(token))
    assert revoked.status_code == 204
    assert_error(send(stack, {"x-api-key": secret}), 401, "authentication_error")


def test_users_never_see_or_touch_each_others_keys(stack: Stack, keycloak: FakeKeycloak) -> None:
    alice, bob = keycloak.mint(user_id()), keycloak.mint(user_id())
    key = new_key(stack, alice, name="alice's")
    assert httpx.get(f"{stack.base_url}/api/v1/api-keys", headers=bearer(bob)).json()["data"] == []
    foreign = httpx.delete(f"{stack.base_url}/api/v1/api-keys/{key['id']}", headers=bearer(bob))
    missing = httpx.delete(f"{stack.base_url}/api/v1/api-keys/key_doesnotexist", headers=bearer(bob))
    assert_error(foreign, 404, "not_found_error")
    assert_error(missing, 404, "not_found_error")
    assert foreign.json()["error"]["message"].replace(key["id"], "X") == missing.json()["error"]["message"].replace(
        "key_doesnotexist", "X"
    )
    spying = httpx.get(f"{stack.base_url}/api/v1/api-keys", params={"user_id": "operator"}, headers=bearer(bob))
    assert_error(spying, 403, "permission_error")


def test_admins_manage_every_users_keys_and_tiers(stack: Stack, keycloak: FakeKeycloak) -> None:
    admin = keycloak.mint("root", roles=["switchboard-admin"])
    someone = user_id()
    created = new_key(stack, admin, user_id=someone, tier="starter")
    assert created["user_id"] == someone
    by_key = httpx.put(
        f"{stack.base_url}/api/v1/users/{someone}/tier", json={"tier": "pro"}, headers={"x-api-key": stack.admin_key}
    )
    assert by_key.json() == {"user_id": someone, "tier": "pro"}
    listed = httpx.get(f"{stack.base_url}/api/v1/api-keys", params={"user_id": someone}, headers=bearer(admin))
    assert [key["id"] for key in listed.json()["data"]] == [created["id"]]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/users/anyone/tier", {"tier": "enterprise"}),
        ("GET", "/api/v1/audit", None),
    ],
)
def test_users_calling_admin_endpoints_get_403(stack: Stack, keycloak: FakeKeycloak, method: str, path: str,
                                               body: Any) -> None:  # fmt: skip
    for headers in (bearer(keycloak.mint(user_id())), {"x-api-key": stack.api_key}):
        response = httpx.request(method, f"{stack.base_url}{path}", json=body, headers=headers)
        assert_error(response, 403, "permission_error")


def test_plain_user_keys_cannot_mint_keys(stack: Stack) -> None:
    response = httpx.post(f"{stack.base_url}/api/v1/api-keys", json={}, headers={"x-api-key": stack.api_key})
    assert_error(response, 403, "permission_error")


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"scopes": ["root"]}', "scopes"),
        (b'{"scopes": "anthropic-proxy"}', "scopes"),
        (b'{"expires_at": "2001-01-01T00:00:00Z"}', "expires_at"),
        (b'{"expires_at": "tomorrow"}', "expires_at"),
        (b'{"name": 5}', "name"),
        (b'{"surprise": 1}', "surprise"),
        (b'{"tier": "pro"}', "administrators"),
    ],
)
def test_malformed_management_bodies(stack: Stack, keycloak: FakeKeycloak, body: bytes, mentions: str) -> None:
    response = httpx.post(f"{stack.base_url}/api/v1/api-keys", content=body, headers=bearer(keycloak.mint(user_id())))
    assert response.status_code in (400, 403)
    assert mentions in response.json()["error"]["message"]


def test_oversized_management_body_gets_413(stack: Stack, keycloak: FakeKeycloak) -> None:
    response = httpx.post(
        f"{stack.base_url}/api/v1/api-keys",
        content=b'{"name": "' + b"x" * 70_000 + b'"}',
        headers=bearer(keycloak.mint(user_id())),
    )
    assert_error(response, 413, "request_too_large")


def test_a_key_without_the_proxy_scope_gets_403(stack: Stack, keycloak: FakeKeycloak) -> None:
    key = new_key(stack, keycloak.mint(user_id(), tier="enterprise"), scopes=[])
    assert_error(send(stack, {"x-api-key": key["key"]}), 403, "permission_error")


def test_expired_key_gets_401(stack: Stack, keycloak: FakeKeycloak) -> None:
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    key = new_key(stack, keycloak.mint(user_id(), tier="enterprise"), expires_at=soon)
    assert send(stack, {"x-api-key": key["key"]}).status_code == 200
    time.sleep(2.5)
    assert_error(send(stack, {"x-api-key": key["key"]}), 401, "authentication_error")


# --- tiers and rate limits ----------------------------------------------------------------------------


def test_every_messages_response_carries_rate_limit_headers(stack: Stack, keycloak: FakeKeycloak) -> None:
    key = new_key(stack, keycloak.mint(user_id(), tier="starter"))["key"]
    response = send(stack, {"x-api-key": key})
    assert response.headers["anthropic-ratelimit-requests-limit"] == "60"
    assert response.headers["anthropic-ratelimit-requests-remaining"] == "59"
    assert response.headers["anthropic-ratelimit-requests-reset"].endswith("Z")
    invalid = httpx.post(f"{stack.base_url}/v1/messages", json={"model": "demo"}, headers={**VERSION, "x-api-key": key})
    assert invalid.status_code == 400
    assert invalid.headers["anthropic-ratelimit-requests-remaining"] == "58"


# --- audit --------------------------------------------------------------------------------------------


def test_admins_query_the_audit_log(stack: Stack) -> None:
    response = send(stack, {"x-api-key": stack.api_key})
    request_id = response.headers["request-id"]
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 5
    while not found and time.monotonic() < deadline:
        audit = httpx.get(
            f"{stack.base_url}/api/v1/audit", params={"request_id": request_id}, headers={"x-api-key": stack.admin_key}
        )
        assert audit.status_code == 200, audit.text
        found = audit.json()["data"]
        time.sleep(0.2)
    (entry,) = found
    assert entry["user_id"] == stack.user_id
    assert entry["key_id"] == stack.key_id
    assert entry["endpoint"] == "/v1/messages"
    assert entry["model"] == "demo"
    assert entry["status"] == 200
    assert entry["client_address"] == "127.0.0.1"
    assert entry["latency_ms"] > 0
    assert stack.api_key not in audit.text
    assert "hi" not in str(entry.get("body_excerpt") or "")
