"""BYOK through the real HTTP server: a user's own provider key is stored encrypted, shown only by its last 4
characters, used upstream for their requests, and never appears in a response, a log or a database column.

Runs against SQLite and PostgreSQL (the ``stack`` fixture is parametrised over both).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from fakes.keycloak import FakeKeycloak
from fakes.openai_provider import FakeOpenAI
from support.postgres import throwaway_database
from support.stack import Stack
from support.usage_stream import recorded_completions
from switchboard.api_gateway.database import create_engine
from switchboard.api_gateway.settings import GatewaySettings

VERSION = {"anthropic-version": "2023-06-01"}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def user_key() -> str:
    return f"sk-user-{secrets.token_hex(12)}"


@pytest.fixture
def token(keycloak: FakeKeycloak) -> str:
    return keycloak.mint(f"byok-{secrets.token_hex(4)}", tier="enterprise")


@pytest.fixture
def accepted_upstream(stack: Stack, user_key: str) -> Iterator[None]:
    """The fake provider also accepts the user's own key (as Anthropic would)."""
    stack.fake.other_keys.add(user_key)
    yield
    stack.fake.other_keys.discard(user_key)


@pytest.fixture(params=["sqlite", "postgresql"])
def own_stack(
    request: pytest.FixtureRequest, private_stack: Stack, fake_openai: FakeOpenAI, user_key: str
) -> Iterator[Stack]:
    """A stack letting users' base URLs point at loopback, where the fake OpenAI server (their "own" one) listens.

    On PostgreSQL it has a database of its own: its BYOK rows are encrypted under its own master key, which the
    shared stack's (``switchboard byok rotate`` among them) cannot read.
    """
    private_stack.fake_openai = fake_openai
    private_stack.extra_env["SWITCHBOARD_BYOK_ALLOW_PRIVATE"] = "1"
    fake_openai.other_keys.add(user_key)
    with contextlib.ExitStack() as resources:
        if request.param == "postgresql":
            private_stack.database_url = resources.enter_context(throwaway_database(private_stack.workdir.parent))
        try:
            private_stack.start()
            yield private_stack
        finally:
            private_stack.stop()  # before its database is dropped
            fake_openai.other_keys.discard(user_key)


def byok_url(stack: Stack, provider: str = "") -> str:
    return f"{stack.base_url}/api/v1/byok" + (f"/{provider}" if provider else "")


def put(stack: Stack, token: str, provider: str, **body: Any) -> httpx.Response:
    return httpx.put(byok_url(stack, provider), json=body, headers=bearer(token))


def message(stack: Stack, token: str, text: str, model: str = "claude-sonnet-4-5") -> httpx.Response:
    body = {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": text}]}
    return httpx.post(f"{stack.base_url}/v1/messages", json=body, headers={**VERSION, **bearer(token)})


def assert_error(response: httpx.Response, status: int, error_type: str) -> str:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["type"], body["error"]["type"]) == ("error", error_type)
    return str(body["error"]["message"])


def database_text(stack: Stack) -> str:
    """Every value of every row of every gateway table, as text."""

    async def dump() -> str:
        engine = create_engine(GatewaySettings.model_validate(stack.env()).resolved_database_url())
        try:
            async with engine.connect() as connection:
                metadata = MetaData()
                await connection.run_sync(metadata.reflect)
                rows = [(await connection.execute(select(table))).all() for table in metadata.tables.values()]
        finally:
            await engine.dispose()
        return "\n".join(repr(row) for table in rows for row in table)

    return asyncio.run(dump())


@pytest.mark.usefixtures("accepted_upstream")
def test_own_key_is_used_upstream_and_never_shown(stack: Stack, token: str, user_key: str) -> None:
    stored = put(stack, token, "anthropic", api_key=user_key)
    assert stored.status_code == 200, stored.text
    assert stored.json()["last4"] == user_key[-4:]
    assert stored.json()["provider"] == "anthropic"
    listed = httpx.get(byok_url(stack), headers=bearer(token))
    one = httpx.get(byok_url(stack, "anthropic"), headers=bearer(token))
    assert [item["provider"] for item in listed.json()["data"]] == ["anthropic"]
    assert one.json()["last4"] == user_key[-4:]

    marker = f"byok-{secrets.token_hex(4)}"
    answer = message(stack, token, marker)
    assert answer.status_code == 200, answer.text
    (seen,) = stack.fake.requests_with_marker(marker)
    assert seen.headers["x-api-key"] == user_key
    (event,) = recorded_completions(stack.nats_url, stack.prefix, answer.headers["request-id"])
    assert event.byok is True

    for response in (stored, listed, one, answer):
        assert user_key not in response.text
    assert user_key not in stack.logs()
    assert user_key not in database_text(stack)


@pytest.mark.usefixtures("accepted_upstream")
def test_deleted_key_is_no_longer_used(stack: Stack, token: str, user_key: str) -> None:
    assert put(stack, token, "anthropic", api_key=user_key).status_code == 200
    deleted = httpx.delete(byok_url(stack, "anthropic"), headers=bearer(token))
    assert deleted.status_code == 204
    assert_error(httpx.delete(byok_url(stack, "anthropic"), headers=bearer(token)), 404, "not_found_error")

    # The gateway caches a user's keys for a few seconds; this replica forgot them on delete.
    marker = f"byok-{secrets.token_hex(4)}"
    answer = message(stack, token, marker)
    assert answer.status_code == 200, answer.text
    (seen,) = stack.fake.requests_with_marker(marker)
    assert seen.headers["x-api-key"] == stack.fake.api_key
    (event,) = recorded_completions(stack.nats_url, stack.prefix, answer.headers["request-id"])
    assert event.byok is False


def test_keys_are_per_user(stack: Stack, token: str, keycloak: FakeKeycloak, user_key: str) -> None:
    assert put(stack, token, "openai", api_key=user_key).json()["base_url"] == "https://api.openai.com/v1"
    other = keycloak.mint(f"byok-{secrets.token_hex(4)}")
    assert httpx.get(byok_url(stack), headers=bearer(other)).json() == {"data": []}
    assert_error(httpx.get(byok_url(stack, "openai"), headers=bearer(other)), 404, "not_found_error")
    assert_error(httpx.delete(byok_url(stack, "openai"), headers=bearer(other)), 404, "not_found_error")


@pytest.mark.parametrize(
    ("provider", "body", "status", "fragment"),
    [
        ("anthropic", {"api_key": "short"}, 400, "api_key:"),
        ("anthropic", {"api_key": "sk-with space-1"}, 400, "api_key:"),
        ("anthropic", {"api_key": "sk-valid-key", "extra": 1}, 400, "extra:"),
        ("anthropic", {}, 400, "api_key: Field required"),
        ("my-vllm", {"api_key": "sk-valid-key"}, 400, "base_url: Field required"),
        ("Bad.Name", {"api_key": "sk-valid-key"}, 400, "provider:"),
        ("my-vllm", {"api_key": "sk-valid-key", "base_url": "http://127.0.0.1:8000/v1"}, 400, "base_url:"),
        ("my-vllm", {"api_key": "sk-valid-key", "base_url": "http://169.254.169.254/v1"}, 400, "base_url:"),
        ("my-vllm", {"api_key": "sk-valid-key", "base_url": "https://u:p@93.184.216.34/v1"}, 400, "credentials"),
        ("my-vllm", {"api_key": "sk-valid-key", "base_url": "file:///etc/passwd"}, 400, "scheme"),
        ("anthropic", {"api_key": "k" * 70_000}, 413, "maximum"),
    ],
)
def test_bad_input_is_an_anthropic_error_naming_the_field(
    stack: Stack, token: str, provider: str, body: dict[str, Any], status: int, fragment: str
) -> None:
    response = put(stack, token, provider, **body)
    error_type = "request_too_large" if status == 413 else "invalid_request_error"
    assert fragment in assert_error(response, status, error_type)
    assert "sk-valid-key" not in response.text


def test_a_public_custom_endpoint_is_accepted(stack: Stack, token: str, user_key: str) -> None:
    response = put(stack, token, "my-vllm", api_key=user_key, base_url="https://93.184.216.34/v1/")
    assert response.status_code == 200, response.text
    assert response.json()["base_url"] == "https://93.184.216.34/v1"


def test_a_proxy_api_key_cannot_manage_byok(stack: Stack, user_key: str) -> None:
    response = httpx.put(byok_url(stack, "anthropic"), json={"api_key": user_key}, headers={"x-api-key": stack.api_key})
    assert_error(response, 403, "permission_error")
    assert_error(httpx.get(byok_url(stack)), 401, "authentication_error")


def model_ids(stack: Stack, token: str) -> list[str]:
    response = httpx.get(f"{stack.base_url}/v1/models", params={"limit": 1000}, headers={**VERSION, **bearer(token)})
    assert response.status_code == 200, response.text
    return [str(model["id"]) for model in response.json()["data"]]


def test_own_provider_is_listed_and_serves_its_models(
    own_stack: Stack, token: str, keycloak: FakeKeycloak, user_key: str, fake_openai: FakeOpenAI
) -> None:
    """A key for a provider no route targets is the user's own provider: ``myoai/<model>`` goes there."""
    stack = own_stack
    stored = put(stack, token, "myoai", api_key=user_key, base_url=f"{fake_openai.url}/v1")
    assert stored.status_code == 200, stored.text
    other = keycloak.mint(f"byok-{secrets.token_hex(4)}", tier="enterprise")
    others = model_ids(stack, other)
    mine = model_ids(stack, token)
    assert {"myoai/gpt-fake", "myoai/gpt-fake-mini"} <= set(mine)
    assert not any(model.startswith("myoai/") for model in others)
    one = httpx.get(f"{stack.base_url}/v1/models/myoai/gpt-fake", headers={**VERSION, **bearer(token)})
    assert one.json()["display_name"] == "myoai/gpt-fake"
    assert httpx.get(f"{stack.base_url}/v1/models/myoai/gpt-fake", headers=bearer(other)).status_code == 404

    marker = f"byok-{secrets.token_hex(4)}"
    answer = message(stack, token, marker, model="myoai/gpt-fake")
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"] == "myoai/gpt-fake"
    (seen,) = fake_openai.requests_with_marker(marker)
    assert seen.headers["authorization"] == f"Bearer {user_key}"
    (event,) = recorded_completions(stack.nats_url, stack.prefix, answer.headers["request-id"])
    assert (event.byok, event.provider, event.upstream_model) == (True, "myoai", "gpt-fake")
    assert message(stack, other, marker, model="myoai/gpt-fake").status_code == 404

    for response in (stored, one, answer):
        assert user_key not in response.text
    assert user_key not in stack.logs()
    assert user_key not in database_text(stack)
