"""The read-only account API a dashboard uses: ``/api/v1/me``, ``/api/v1/users``, ``/api/v1/users/{id}/rate-limit``.

Through the real HTTP server, against SQLite and PostgreSQL (the ``stack`` fixture is parametrised over both).
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fakes.keycloak import FakeKeycloak
from support.processes import wait_until
from support.stack import Stack

VERSION = {"anthropic-version": "2023-06-01"}
MESSAGE = {"model": "demo", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
FREE = {"requests_per_minute": 10, "requests_per_day": 100, "tokens_per_minute": 20_000}
STARTER = {"requests_per_minute": 60, "requests_per_day": 1000, "tokens_per_minute": 100_000}
UNLIMITED = {"requests_per_minute": None, "requests_per_day": None, "tokens_per_minute": None}
ADMIN_ROLE = "switchboard-admin"


def new_user_id(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def as_key(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def create_key(stack: Stack, user_id: str, tier: str | None = None) -> dict[str, Any]:
    """A key for ``user_id`` minted by the administrator (who may also set the tier)."""
    fields: dict[str, Any] = {"user_id": user_id} if tier is None else {"user_id": user_id, "tier": tier}
    response = httpx.post(f"{stack.base_url}/api/v1/api-keys", json=fields, headers=as_key(stack.admin_key))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def get(stack: Stack, path: str, headers: dict[str, str], **params: str) -> httpx.Response:
    return httpx.get(f"{stack.base_url}{path}", params=params, headers=headers, timeout=10)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_error(response: httpx.Response, status: int, error_type: str) -> str:
    """The error's message, after checking the Anthropic error shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert body["request_id"] == response.headers["request-id"]
    message: str = body["error"]["message"]
    return message


# --- GET /api/v1/me ------------------------------------------------------------------------------------


def test_me_for_an_api_key(stack: Stack) -> None:
    user = new_user_id()
    created = create_key(stack, user, tier="free")
    assert ok(get(stack, "/api/v1/me", as_key(created["key"]))) == {
        "user_id": user,
        "tier": "free",
        "is_admin": False,
        "via": "api_key",
        "key_id": created["id"],
        "scopes": ["anthropic-proxy"],
        "billing_account": None,
        "limits": FREE,
    }


def test_me_for_an_administrator_key_with_a_billing_account(stack: Stack) -> None:
    account = f"sub-{secrets.token_hex(4)}"
    admin = ok(get(stack, "/api/v1/me", as_key(stack.admin_key)))
    assert (admin["user_id"], admin["tier"], admin["is_admin"], admin["limits"]) == (
        "operator", "enterprise", True, UNLIMITED,
    )  # fmt: skip
    user = new_user_id()
    key = create_key(stack, user)["key"]
    billed = httpx.put(
        f"{stack.base_url}/api/v1/users/{user}/billing",
        json={"billing_account": account},
        headers=as_key(stack.admin_key),
    )
    assert billed.status_code == 200, billed.text
    assert ok(get(stack, "/api/v1/me", as_key(key)))["billing_account"] == account


def test_me_for_a_keycloak_token(stack: Stack, keycloak: FakeKeycloak) -> None:
    user = new_user_id()
    assert ok(get(stack, "/api/v1/me", bearer(keycloak.mint(user, tier="starter")))) == {
        "user_id": user,
        "tier": "starter",
        "is_admin": False,
        "via": "jwt",
        "key_id": None,
        "scopes": ["anthropic-proxy"],
        "billing_account": None,
        "limits": STARTER,
    }
    admin = ok(get(stack, "/api/v1/me", bearer(keycloak.mint(new_user_id(), roles=[ADMIN_ROLE]))))
    assert admin["is_admin"] is True and admin["via"] == "jwt" and admin["tier"] == "free"


def test_me_without_a_credential_is_401_and_with_a_query_is_400(stack: Stack) -> None:
    assert_error(get(stack, "/api/v1/me", {}), 401, "authentication_error")
    message = assert_error(get(stack, "/api/v1/me", as_key(stack.api_key), verbose="1"), 400, "invalid_request_error")
    assert message.startswith("verbose:")


# --- GET /api/v1/users ---------------------------------------------------------------------------------


def test_administrators_list_filter_and_page_users(stack: Stack) -> None:
    prefix = new_user_id("view")
    a, b, c = (f"{prefix}-{suffix}" for suffix in ("a", "b", "c"))
    create_key(stack, a, tier="starter")
    revoked = create_key(stack, b)
    create_key(stack, b)
    create_key(stack, b)
    assert httpx.delete(f"{stack.base_url}/api/v1/api-keys/{revoked['id']}", headers=as_key(stack.admin_key)).is_success
    set_tier = httpx.put(
        f"{stack.base_url}/api/v1/users/{c}/tier", json={"tier": "pro"}, headers=as_key(stack.admin_key)
    )
    assert set_tier.status_code == 200, set_tier.text
    listed = ok(get(stack, "/api/v1/users", as_key(stack.admin_key), q=prefix))
    assert listed["total"] == 3
    rows = {row["user_id"]: row for row in listed["data"]}
    assert list(rows) == [a, b, c]
    assert [(rows[u]["tier"], rows[u]["active_keys"], rows[u]["billing_account"]) for u in (a, b, c)] == [
        ("starter", 1, None), ("free", 2, None), ("pro", 0, None),
    ]  # fmt: skip
    for row in rows.values():
        created_at = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
        assert row["created_at"].endswith("Z") and abs((datetime.now(UTC) - created_at).total_seconds()) < 120
    first = ok(get(stack, "/api/v1/users", as_key(stack.admin_key), q=prefix.upper(), limit="2"))
    rest = ok(get(stack, "/api/v1/users", as_key(stack.admin_key), q=prefix, limit="2", offset="2"))
    assert [row["user_id"] for row in first["data"]] == [a, b] and first["total"] == 3
    assert [row["user_id"] for row in rest["data"]] == [c] and rest["total"] == 3
    past = ok(get(stack, "/api/v1/users", as_key(stack.admin_key), q=prefix, offset="3"))
    assert past == {"data": [], "total": 3}


def test_the_user_filter_is_a_plain_substring(stack: Stack) -> None:
    prefix = new_user_id("like")
    create_key(stack, f"{prefix}-x")
    for pattern in (f"{prefix}%", f"{prefix}_x", "%", "_"):
        found = ok(get(stack, "/api/v1/users", as_key(stack.admin_key), q=pattern))
        assert f"{prefix}-x" not in [row["user_id"] for row in found["data"]], pattern


def test_without_a_filter_every_user_is_listed_in_order(stack: Stack) -> None:
    create_key(stack, new_user_id())
    everyone = ok(get(stack, "/api/v1/users", as_key(stack.admin_key), limit="1000"))
    ids = [row["user_id"] for row in everyone["data"]]
    assert {stack.user_id, "operator"} <= set(ids)
    assert ids == sorted(ids) and everyone["total"] >= len(ids)


def test_users_who_are_not_administrators_cannot_list_users(stack: Stack, keycloak: FakeKeycloak) -> None:
    for headers in (bearer(keycloak.mint(new_user_id())), as_key(stack.api_key)):
        assert_error(get(stack, "/api/v1/users", headers), 403, "permission_error")
    admin_token = bearer(keycloak.mint(new_user_id(), roles=[ADMIN_ROLE]))
    assert ok(get(stack, "/api/v1/users", admin_token, limit="1"))["total"] >= 1


@pytest.mark.parametrize(
    ("name", "value"),
    [("limit", "0"), ("limit", "1001"), ("limit", "ten"), ("offset", "-1"), ("offset", "1.5"), ("page", "2")],
)
def test_bad_user_list_parameters_are_400_naming_them(stack: Stack, name: str, value: str) -> None:
    response = get(stack, "/api/v1/users", as_key(stack.admin_key), **{name: value})
    assert assert_error(response, 400, "invalid_request_error").startswith(f"{name}:")


# --- GET /api/v1/users/{user_id}/rate-limit ------------------------------------------------------------


def send(stack: Stack, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/v1/messages", json=MESSAGE, headers={**VERSION, **headers}, timeout=10)


def rate_limit(stack: Stack, user_id: str, headers: dict[str, str]) -> dict[str, Any]:
    return ok(get(stack, f"/api/v1/users/{user_id}/rate-limit", headers))


def used(state: dict[str, Any]) -> dict[str, int]:
    return {name: window["used"] for name, window in state["limits"].items()}


def well_inside_a_minute() -> None:
    """Counters are per clock minute: start a test that compares two readings with time to spare in the minute."""
    left = 60 - time.time() % 60
    if left < 10:
        time.sleep(left + 0.5)


def minute_end() -> str:
    return datetime.fromtimestamp((int(time.time() // 60) + 1) * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_end() -> str:
    return datetime.fromtimestamp((int(time.time() // 86_400) + 1) * 86_400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_user_who_never_made_a_request_has_used_nothing(stack: Stack) -> None:
    well_inside_a_minute()
    user = new_user_id()
    key = create_key(stack, user, tier="free")["key"]
    assert rate_limit(stack, user, as_key(key)) == {
        "user_id": user,
        "tier": "free",
        "limits": {
            "requests_per_minute": {
                "limit": 10, "used": 0, "remaining": 10, "window": "minute", "resets_at": minute_end(),
            },
            "requests_per_day": {"limit": 100, "used": 0, "remaining": 100, "window": "day", "resets_at": day_end()},
            "tokens_per_minute": {
                "limit": 20_000, "used": 0, "remaining": 20_000, "window": "minute", "resets_at": minute_end(),
            },
        },
    }  # fmt: skip


def test_requests_count_exactly_and_reading_counts_nothing(stack: Stack) -> None:
    well_inside_a_minute()
    user = new_user_id()
    key = create_key(stack, user, tier="free")["key"]
    for _ in range(3):  # reading is free: it must not eat the budget
        assert used(rate_limit(stack, user, as_key(key))) == {
            "requests_per_minute": 0, "requests_per_day": 0, "tokens_per_minute": 0,
        }  # fmt: skip
    answers = [send(stack, as_key(key)) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    state = rate_limit(stack, user, as_key(stack.admin_key))
    rpm = state["limits"]["requests_per_minute"]
    assert (rpm["used"], rpm["remaining"]) == (2, 8)
    assert str(rpm["remaining"]) == answers[-1].headers["anthropic-ratelimit-requests-remaining"]
    assert rpm["resets_at"] == answers[-1].headers["anthropic-ratelimit-requests-reset"]
    assert state["limits"]["requests_per_day"]["used"] == 2
    usage = [answer.json()["usage"] for answer in answers]
    tokens = sum(u["input_tokens"] + u["output_tokens"] + (u.get("cache_creation_input_tokens") or 0) for u in usage)
    assert tokens > 0
    # Tokens are charged from the completion events, a moment after the answers.
    wait_until(
        lambda: used(rate_limit(stack, user, as_key(key)))["tokens_per_minute"] == tokens,
        timeout=10,
        what=f"{tokens} tokens charged",
    )
    final = rate_limit(stack, user, as_key(key))["limits"]
    assert (final["requests_per_minute"]["used"], final["requests_per_day"]["used"]) == (2, 2)
    assert final["tokens_per_minute"]["remaining"] == 20_000 - tokens


def test_a_keycloak_user_reads_their_own_state_at_their_token_tier(stack: Stack, keycloak: FakeKeycloak) -> None:
    well_inside_a_minute()
    user = new_user_id()
    token = bearer(keycloak.mint(user, tier="starter"))
    assert send(stack, token).status_code == 200
    state = rate_limit(stack, user, token)
    assert state["tier"] == "starter"
    assert state["limits"]["requests_per_minute"] == {
        "limit": 60, "used": 1, "remaining": 59, "window": "minute", "resets_at": minute_end(),
    }  # fmt: skip


def test_an_unlimited_tier_has_no_limits_to_show(stack: Stack) -> None:
    assert rate_limit(stack, stack.user_id, as_key(stack.api_key)) == {
        "user_id": stack.user_id, "tier": "enterprise", "limits": {},
    }  # fmt: skip


def test_administrators_read_anyone_including_users_not_on_record(stack: Stack) -> None:
    user = new_user_id()
    create_key(stack, user, tier="starter")
    assert rate_limit(stack, user, as_key(stack.admin_key))["tier"] == "starter"
    stranger = rate_limit(stack, new_user_id("never-seen"), as_key(stack.admin_key))
    assert stranger["tier"] == "free"
    assert {window["used"] for window in stranger["limits"].values()} == {0}


def test_users_cannot_read_each_others_state(stack: Stack, keycloak: FakeKeycloak) -> None:
    mallory_key = create_key(stack, new_user_id(), tier="free")["key"]
    for headers in (as_key(mallory_key), bearer(keycloak.mint(new_user_id()))):
        response = get(stack, f"/api/v1/users/{stack.user_id}/rate-limit", headers)
        assert_error(response, 403, "permission_error")


def test_rate_limit_takes_no_query_parameters(stack: Stack) -> None:
    response = get(stack, f"/api/v1/users/{stack.user_id}/rate-limit", as_key(stack.api_key), window="day")
    assert assert_error(response, 400, "invalid_request_error").startswith("window:")
