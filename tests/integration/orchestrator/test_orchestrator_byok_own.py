"""A caller's own providers (BYOK keys named for no configured provider): routed as ``"<provider>/<model>"`` unless
an exact configured name matches (patterns lose), and listed by ``list_models`` for that caller only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import nats.errors
import pytest
from nats.aio.client import Client

from fakes.anthropic_provider import FakeAnthropic
from fakes.openai_provider import FakeOpenAI
from integration.orchestrator.orchestrator_harness import ROUTES, Gateway, Launch, message_body
from integration.orchestrator.test_orchestrator_byok import ALLOW_PRIVATE, USER_KEY, marker, sealed
from switchboard.common.events import ByokCredential, ListModels
from switchboard.common.subjects import Subjects


@pytest.fixture
def user_openai() -> Iterator[FakeOpenAI]:
    """The user's own OpenAI-compatible endpoint: accepts only the user's key."""
    with FakeOpenAI(api_key=USER_KEY) as fake:
        yield fake


async def listed_ids(bus: Client, subjects: Subjects, payload: bytes) -> list[str]:
    for _ in range(20):  # the first request right after a subscription can see no responders
        try:
            reply = await bus.request(subjects.list_models, payload, timeout=5.0)
        except nats.errors.NoRespondersError:
            await asyncio.sleep(0.05)
            continue
        models: list[dict[str, Any]] = json.loads(reply.data)["models"]
        return [str(model["id"]) for model in models]
    pytest.fail("nobody answered list_models")


async def test_own_provider_serves_its_prefixed_names(
    launch: Launch, bus: Client, subjects: Subjects, user_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await launch(**ALLOW_PRIVATE)
    gateway = Gateway(bus, subjects)
    credential, text = sealed(base_url=f"{user_openai.url}/v1"), marker()
    request = gateway.request(
        message_body(text, model="myoai/gpt-fake"), model="myoai/gpt-fake", user_id="u-own", byok={"myoai": credential}
    )
    reply = await gateway.call(request)

    assert reply.kinds() == ["accepted", "body", "end"], reply.frames
    (seen,) = user_openai.requests_with_marker(text)
    assert seen.headers["authorization"] == f"Bearer {USER_KEY}"
    assert json.loads(seen.body)["model"] == "gpt-fake"
    completion, _ = await gateway.completion("u-own")
    assert (completion.byok, completion.provider, completion.upstream_model) == (True, "myoai", "gpt-fake")
    assert USER_KEY not in caplog.text
    assert all(USER_KEY not in frame.model_dump_json() for frame in reply.frames)


async def test_own_providers_win_over_patterns_but_not_over_exact_names(
    launch: Launch, bus: Client, subjects: Subjects, user_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    mapping = {**ROUTES["model_mapping"], "claude-own/pinned": "anthropic/claude-opus-5"}
    await launch(routes={**ROUTES, "model_mapping": mapping}, **ALLOW_PRIVATE)
    gateway = Gateway(bus, subjects)
    credential = sealed(base_url=f"{user_openai.url}/v1")
    for model, served_by_user in (("claude-own/gpt-fake", True), ("claude-own/pinned", False)):
        text = marker()  # "claude-*" is a configured pattern; "claude-own/pinned" an exact name
        request = gateway.request(message_body(text, model=model), model=model, byok={"claude-own": credential})
        reply = await gateway.call(request)
        assert reply.kinds() == ["accepted", "body", "end"], reply.frames
        assert len(user_openai.requests_with_marker(text)) == int(served_by_user)
        assert len(fake_anthropic.requests_with_marker(text)) == int(not served_by_user)


async def test_without_the_key_an_own_provider_name_is_unknown(gateway: Gateway) -> None:
    reply = await gateway.call(gateway.request(message_body(marker(), model="myoai/gpt-fake"), model="myoai/gpt-fake"))
    assert reply.only("error").status == 404


async def test_list_models_adds_own_providers_for_that_caller_only(
    launch: Launch, bus: Client, subjects: Subjects, user_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await launch(**ALLOW_PRIVATE)
    byok = {
        "myoai": sealed(base_url=f"{user_openai.url}/v1"),
        "gone": sealed(base_url="http://127.0.0.1:9/v1"),  # nothing listens: left out, the rest still answers
        "anthropic": sealed(),  # a configured provider: its list stays as it is
    }
    own = await listed_ids(bus, subjects, ListModels(user_id="u-list", byok=byok).model_dump_json().encode())
    shared = await listed_ids(bus, subjects, b"{}")
    empty = await listed_ids(bus, subjects, b"")

    assert own == [*shared, "myoai/gpt-fake", "myoai/gpt-fake-mini"]
    assert empty == shared
    assert not any(model.startswith(("myoai/", "gone/")) for model in shared)
    assert USER_KEY not in caplog.text
    assert "listing models of provider gone failed" in caplog.text


async def test_own_provider_models_need_a_decryptable_key(launch: Launch, bus: Client, subjects: Subjects) -> None:
    await launch(**ALLOW_PRIVATE)
    broken = ByokCredential(ciphertext="not-a-fernet-token", base_url="http://127.0.0.1:9/v1")
    query = ListModels(user_id="u-broken", byok={"mine": broken}).model_dump_json().encode()
    assert await listed_ids(bus, subjects, query) == await listed_ids(bus, subjects, b"{}")
