"""Orchestrators running in-process against the session's real NATS and fake Anthropic, each test on its own
subject prefix."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.agent_harness import AGENT_ROUTES
from integration.orchestrator.orchestrator_harness import KEY_ENV, ROUTES, Gateway, Launch
from integration.orchestrator.tool_broker_stand_in import ToolBrokerStandIn
from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import McpTool
from switchboard.orchestrator.app import OrchestratorApp, create_app
from switchboard.orchestrator.settings import OrchestratorSettings


@pytest.fixture
def subjects() -> Subjects:
    return Subjects(f"orch{secrets.token_hex(4)}")


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Client]:
    connection = await nats.connect(nats_url)
    yield connection
    await connection.drain()


@pytest.fixture
async def launch(
    nats_url: str,
    fake_anthropic: FakeAnthropic,
    subjects: Subjects,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Launch]:
    """Start orchestrator replicas on the test's prefix: ``await launch(routes, **env)``."""
    monkeypatch.setenv(KEY_ENV, fake_anthropic.api_key)
    apps: list[OrchestratorApp] = []

    async def start(routes: dict[str, Any] | None = ROUTES, **env: Any) -> OrchestratorApp:
        values: dict[str, Any] = {
            "NATS_URL": nats_url,
            "SWITCHBOARD_SUBJECT_PREFIX": subjects.prefix,
            "ANTHROPIC_UPSTREAM_URL": fake_anthropic.url,
            "ANTHROPIC_UPSTREAM_API_KEY": fake_anthropic.api_key,
            "SWITCHBOARD_SPOOL_DIR": tmp_path / "spool",  # shared by the test's replicas, as on one host
            **env,
        }
        if routes is not None:
            path = tmp_path / f"routes-{len(apps)}.json"
            path.write_text(json.dumps(routes))
            values["SWITCHBOARD_CONFIG"] = path
        app = await create_app(OrchestratorSettings.model_validate(values))
        await app.start()
        apps.append(app)
        return app

    yield start
    for app in reversed(apps):
        await app.stop(grace=1.0)


@pytest.fixture
async def gateway(launch: Launch, bus: Client, subjects: Subjects) -> Gateway:
    """One orchestrator with the default test routes, and the gateway stand-in talking to it."""
    await launch()
    return Gateway(bus, subjects)


@pytest.fixture
async def agent_gateway(launch: Launch, bus: Client, subjects: Subjects) -> Gateway:
    """One orchestrator whose config defines the agents of ``AGENT_ROUTES``, and the gateway stand-in."""
    await launch(AGENT_ROUTES)
    return Gateway(bus, subjects)


@pytest.fixture
async def tool_broker(bus: Client, subjects: Subjects) -> AsyncIterator[ToolBrokerStandIn]:
    """The tool-broker's side of the bus, not yet answering: ``await tool_broker.start()``."""
    stand_in = ToolBrokerStandIn(bus, subjects)
    stand_in.tools.append(McpTool(server_id="other", name="add"))
    yield stand_in
    await stand_in.stop()
