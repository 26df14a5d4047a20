"""BYOK in the orchestrator: the caller's own key, opened only here, reaches the upstream instead of ours.

The user's fakes run on 127.0.0.1, which the SSRF guard refuses unless SWITCHBOARD_BYOK_ALLOW_PRIVATE is set.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from nats.aio.client import Client

from fakes.anthropic_provider import FakeAnthropic
from fakes.openai_provider import FakeOpenAI
from integration.orchestrator.orchestrator_harness import ROUTES, Gateway, Launch, Reply, message_body
from switchboard.common.events import ByokCredential
from switchboard.common.subjects import Subjects

USER_KEY = "sk-user-own-key"
MASTER = Fernet.generate_key().decode()
ALLOW_PRIVATE = {"SWITCHBOARD_BYOK_KEYS": MASTER, "SWITCHBOARD_BYOK_ALLOW_PRIVATE": "1"}
OPENAI_ROUTES: dict[str, Any] = {
    "providers": {**ROUTES["providers"], "openrouter": {"type": "openai", "base_url": "https://openrouter.ai/api/v1"}},
    "model_mapping": {**ROUTES["model_mapping"], "gpt-*": "openrouter"},
}


def sealed(key: str = USER_KEY, *, base_url: str | None = None, master: str = MASTER) -> ByokCredential:
    return ByokCredential(ciphertext=Fernet(master.encode()).encrypt(key.encode()).decode(), base_url=base_url)


def marker() -> str:
    return f"byok-{secrets.token_hex(4)}"


def error_of(reply: Reply) -> tuple[int | None, str, str]:
    frame = reply.only("error")
    body = json.loads(frame.data)
    assert body["type"] == "error"
    return frame.status, body["error"]["type"], body["error"]["message"]


@pytest.fixture
def user_fake() -> Iterator[FakeAnthropic]:
    """The user's own Anthropic-compatible endpoint: accepts only the user's key."""
    with FakeAnthropic(api_key=USER_KEY) as fake:
        yield fake


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_secret_nowhere(credential: ByokCredential, reply: Reply, logs: pytest.LogCaptureFixture) -> None:
    assert USER_KEY not in logs.text
    assert credential.ciphertext not in logs.text
    for frame in reply.frames:
        assert USER_KEY not in frame.model_dump_json()


async def test_own_key_reaches_the_users_endpoint_not_ours(
    launch: Launch, bus: Client, subjects: Subjects, user_fake: FakeAnthropic, fake_anthropic: FakeAnthropic,
    logs: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    await launch(**ALLOW_PRIVATE)
    gateway = Gateway(bus, subjects)
    credential, text = sealed(base_url=user_fake.url), marker()
    request = gateway.request(message_body(text), user_id="u-byok", byok={"anthropic": credential})
    reply = await gateway.call(request)

    assert reply.kinds() == ["accepted", "body", "end"], reply.frames
    (seen,) = user_fake.requests_with_marker(text)
    assert seen.headers["x-api-key"] == USER_KEY
    assert fake_anthropic.requests_with_marker(text) == []
    completion, _ = await gateway.completion("u-byok")
    assert (completion.byok, completion.provider, completion.status) == (True, "anthropic", "succeeded")
    assert_secret_nowhere(credential, reply, logs)


async def test_own_key_on_the_routed_endpoint_streams(
    launch: Launch, bus: Client, subjects: Subjects, fake_anthropic: FakeAnthropic, logs: pytest.LogCaptureFixture
) -> None:
    """Without a base URL the route's own endpoint is used, with the user's key (no SSRF flag needed)."""
    await launch(SWITCHBOARD_BYOK_KEYS=MASTER)
    gateway = Gateway(bus, subjects)
    fake_anthropic.other_keys.add(USER_KEY)
    try:
        credential, text = sealed(), marker()
        body = message_body(f"[[fake:words=3]] {text}", stream=True)
        reply = await gateway.call(
            gateway.request(body, stream=True, user_id="u-byok-s", byok={"anthropic": credential})
        )
    finally:
        fake_anthropic.other_keys.discard(USER_KEY)

    assert "message_stop" in reply.data("sse")
    (seen,) = fake_anthropic.requests_with_marker(text)
    assert seen.headers["x-api-key"] == USER_KEY
    completion, _ = await gateway.completion("u-byok-s")
    assert (completion.byok, completion.streamed) == (True, True)
    assert_secret_nowhere(credential, reply, logs)


async def test_own_key_for_an_openai_compatible_provider(
    launch: Launch, bus: Client, subjects: Subjects, logs: pytest.LogCaptureFixture
) -> None:
    with FakeOpenAI(api_key=USER_KEY) as user_openai:
        await launch(OPENAI_ROUTES, **ALLOW_PRIVATE)
        gateway = Gateway(bus, subjects)
        credential, text = sealed(base_url=f"{user_openai.url}/v1"), marker()
        request = gateway.request(
            message_body(text, model="gpt-4o"), model="gpt-4o", user_id="u-byok-o", byok={"openrouter": credential}
        )
        reply = await gateway.call(request)
        (seen,) = user_openai.requests_with_marker(text)

    assert reply.kinds() == ["accepted", "body", "end"], reply.frames
    assert seen.headers["authorization"] == f"Bearer {USER_KEY}"
    completion, _ = await gateway.completion("u-byok-o")
    assert (completion.byok, completion.provider) == (True, "openrouter")
    assert_secret_nowhere(credential, reply, logs)


async def test_loopback_base_url_is_refused_without_the_operator_flag(
    launch: Launch, bus: Client, subjects: Subjects, user_fake: FakeAnthropic, logs: pytest.LogCaptureFixture
) -> None:
    await launch(SWITCHBOARD_BYOK_KEYS=MASTER)
    gateway = Gateway(bus, subjects)
    credential, text = sealed(base_url=user_fake.url), marker()
    reply = await gateway.call(gateway.request(message_body(text), user_id="u-ssrf", byok={"anthropic": credential}))

    status, error_type, message = error_of(reply)
    assert (status, error_type) == (400, "invalid_request_error")
    assert message.startswith("base_url: ")
    assert user_fake.requests_with_marker(text) == []
    completion, _ = await gateway.completion("u-ssrf")
    assert (completion.byok, completion.http_status) == (False, 400)
    assert_secret_nowhere(credential, reply, logs)


async def test_undecryptable_key_fails_closed_without_secrets(
    launch: Launch, bus: Client, subjects: Subjects, fake_anthropic: FakeAnthropic, logs: pytest.LogCaptureFixture
) -> None:
    await launch(SWITCHBOARD_BYOK_KEYS=MASTER)
    gateway = Gateway(bus, subjects)
    credential, text = sealed(master=Fernet.generate_key().decode()), marker()
    reply = await gateway.call(gateway.request(message_body(text), byok={"anthropic": credential}))

    status, error_type, message = error_of(reply)
    assert (status, error_type) == (500, "api_error")
    assert "cannot be decrypted" in message
    assert fake_anthropic.requests_with_marker(text) == []  # never silently served with our key
    assert_secret_nowhere(credential, reply, logs)


async def test_without_master_keys_a_byok_request_fails_closed(gateway: Gateway, fake_anthropic: FakeAnthropic) -> None:
    text = marker()
    reply = await gateway.call(gateway.request(message_body(text), byok={"anthropic": sealed()}))

    assert error_of(reply)[:2] == (500, "api_error")
    assert fake_anthropic.requests_with_marker(text) == []


async def test_keys_for_providers_no_route_targets_are_ignored(
    launch: Launch, bus: Client, subjects: Subjects, fake_anthropic: FakeAnthropic
) -> None:
    await launch(SWITCHBOARD_BYOK_KEYS=MASTER)
    gateway = Gateway(bus, subjects)
    text = marker()
    request = gateway.request(message_body(text), user_id="u-other", byok={"openrouter": sealed()})
    reply = await gateway.call(request)

    assert reply.kinds() == ["accepted", "body", "end"]
    (seen,) = fake_anthropic.requests_with_marker(text)
    assert seen.headers["x-api-key"] == fake_anthropic.api_key
    completion, _ = await gateway.completion("u-other")
    assert completion.byok is False
