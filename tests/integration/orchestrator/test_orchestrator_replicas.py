"""Replicas share work through the queue group, answer pings and model lists, and respect their capacity."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats.errors
import pytest
from nats.aio.client import Client

from integration.orchestrator.orchestrator_harness import ROUTES, Gateway, Launch, message_body
from switchboard.common.events import ModelsListed
from switchboard.common.subjects import Subjects


async def request_json(bus: Client, subject: str) -> Any:
    # The first request right after a subscription can see no responders (ecosystem.md §1.10): retry.
    for _ in range(20):
        try:
            return json.loads((await bus.request(subject, b"{}", timeout=5.0)).data)
        except nats.errors.NoRespondersError:
            await asyncio.sleep(0.05)
    pytest.fail(f"nobody answered on {subject}")


async def test_two_replicas_share_the_queue(launch: Launch, bus: Client, subjects: Subjects) -> None:
    first, second = await launch(), await launch()
    gateway = Gateway(bus, subjects)
    replies = await asyncio.gather(*(gateway.call(gateway.request(message_body(f"n{i}"))) for i in range(30)))

    assert all(reply.kinds() == ["accepted", "body", "end"] for reply in replies)
    assert first.dispatcher.accepted_total + second.dispatcher.accepted_total == 30
    assert first.dispatcher.accepted_total > 0
    assert second.dispatcher.accepted_total > 0


async def test_ping(gateway: Gateway, bus: Client) -> None:
    answer = await request_json(bus, gateway.subjects.ping("orchestrator"))
    assert answer["instance"].startswith("orchestrator_")
    assert answer["inflight"] == 0


async def test_models_are_explicit_routes_plus_the_upstream_catch_all(
    launch: Launch, bus: Client, subjects: Subjects
) -> None:
    routes = {**ROUTES, "model_mapping": {**ROUTES["model_mapping"], "*": "anthropic"}}
    await launch(routes)
    listed = ModelsListed.model_validate(await request_json(bus, subjects.list_models))

    ids = [model["id"] for model in listed.models]
    assert ids == ["alias-sonnet", "demo", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]
    alias, demo, upstream = listed.models[0], listed.models[1], listed.models[2]
    assert alias == {
        "id": "alias-sonnet",
        "type": "model",
        "display_name": "alias-sonnet",
        "created_at": "2025-09-29T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": 200000,
        "max_tokens": 64000,
    }
    assert demo["display_name"] == "Switchboard offline demo"
    assert upstream["display_name"] == "Claude Sonnet 4.5"


async def test_models_without_an_upstream_key_are_the_explicit_routes(
    launch: Launch, bus: Client, subjects: Subjects
) -> None:
    await launch(None, SWITCHBOARD_DEMO=True)  # default routes: "*" to anthropic, plus demo
    await launch(None, SWITCHBOARD_DEMO=True, ANTHROPIC_UPSTREAM_API_KEY="")
    for _ in range(4):  # whichever replica answers, a keyless one lists only what it is configured with
        listed = ModelsListed.model_validate(await request_json(bus, subjects.list_models))
        assert listed.models[0]["id"] == "demo"
        assert listed.models[0]["created_at"] == "1970-01-01T00:00:00Z"


async def test_over_capacity_a_request_is_not_accepted(launch: Launch, bus: Client, subjects: Subjects) -> None:
    await launch(SWITCHBOARD_ORCHESTRATOR_MAX_INFLIGHT=1)
    gateway = Gateway(bus, subjects)
    slow = await gateway.open(gateway.request(message_body("[[fake:delay=1.5]] slow", stream=True), stream=True))
    await slow.until("accepted")

    refused = await gateway.open(gateway.request(message_body("second")))
    with pytest.raises(nats.errors.TimeoutError):
        await refused.next(timeout=0.5)  # no accepted: the gateway answers 529 after its accept timeout
    await slow.finish()
