"""``switchboard keys create`` mints a key into the running gateway's database; only its hash is stored."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from fakes.keycloak import FakeKeycloak
from support.postgres import throwaway_database
from support.stack import Stack
from support.usage_stream import recorded_completions
from switchboard.api_gateway.database import create_engine
from switchboard.api_gateway.settings import GatewaySettings


def mint(stack: Stack, user: str) -> str:
    env = {**os.environ, **stack.env()}  # noqa: TID251 - the CLI reads the same environment as the gateway
    completed = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "keys", "create", "--user", user, "--name", "laptop"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    secret = completed.stdout.strip().splitlines()[-1]
    assert secret.startswith("sk-ant-uc-")
    return secret


async def stored_columns(stack: Stack) -> list[str]:
    engine = create_engine(GatewaySettings.model_validate(stack.env()).resolved_database_url())
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT * FROM gateway_api_keys"))
            return [str(value) for row in rows for value in row]
    finally:
        await engine.dispose()


def test_minted_key_works_at_once_and_is_stored_only_as_a_hash(stack: Stack) -> None:
    secret = mint(stack, "bob")
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        json={"model": "demo", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {secret}", "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 200, response.text
    (event,) = recorded_completions(stack.nats_url, stack.prefix, response.headers["request-id"])
    assert event.user_id == "bob"
    assert all(secret not in value for value in asyncio.run(stored_columns(stack)))


def test_users_set_tier_changes_the_limits_a_key_gets(stack: Stack) -> None:
    secret = mint(stack, "carol")
    env = {**os.environ, **stack.env()}  # noqa: TID251 - the CLI reads the same environment as the gateway
    completed = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "users", "set-tier", "carol", "starter"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    rejected = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "users", "set-tier", "carol", "platinum"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert rejected.returncode == 2
    assert "unknown tier 'platinum'" in rejected.stderr
    response = httpx.post(
        f"{stack.base_url}/v1/messages",
        json={"model": "demo", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-api-key": secret, "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 200
    assert response.headers["anthropic-ratelimit-requests-limit"] == "60"


async def stored_ciphertexts(stack: Stack, user: str) -> list[str]:
    engine = create_engine(GatewaySettings.model_validate(stack.env()).resolved_database_url())
    try:
        async with engine.connect() as connection:
            query = text("SELECT ciphertext FROM gateway_byok_keys WHERE user_id = :user")
            return [str(row[0]) for row in await connection.execute(query, {"user": user})]
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def lone_stack(request: pytest.FixtureRequest, private_stack: Stack) -> Iterator[Stack]:
    """A gateway with a database of its own: ``byok rotate`` re-encrypts *every* row, and other tests' stacks
    store theirs under master keys of their own."""
    with contextlib.ExitStack() as resources:
        if request.param == "postgresql":
            private_stack.database_url = resources.enter_context(throwaway_database(private_stack.workdir.parent))
        try:
            private_stack.start(orchestrators=0)
            yield private_stack
        finally:
            private_stack.stop()  # before its database is dropped


def test_byok_rotate_re_encrypts_under_the_new_master_key(lone_stack: Stack, keycloak: FakeKeycloak) -> None:
    stack = lone_stack
    token = keycloak.mint("rotating-user")
    stored = httpx.put(
        f"{stack.base_url}/api/v1/byok/anthropic",
        json={"api_key": "sk-ant-users-own-key-1234"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert stored.status_code == 200, stored.text
    env = {**os.environ, **stack.env()}  # noqa: TID251 - the CLI reads the same environment as the gateway
    new_master = Fernet.generate_key().decode()
    env["SWITCHBOARD_BYOK_KEYS"] = f"{new_master},{stack.byok_keys}"
    completed = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "byok", "rotate"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "Re-encrypted" in completed.stdout
    (ciphertext,) = asyncio.run(stored_ciphertexts(stack, "rotating-user"))
    assert Fernet(new_master.encode()).decrypt(ciphertext.encode()) == b"sk-ant-users-own-key-1234"
    without = {**env, "SWITCHBOARD_BYOK_KEYS": ""}
    refused = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "byok", "rotate"],
        capture_output=True, text=True, env=without, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "SWITCHBOARD_BYOK_KEYS is not set" in refused.stderr
