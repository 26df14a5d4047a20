"""A gateway and a tool-broker per test module (each on its own subject prefix), and the orchestrator's bus side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from fakes.anthropic_provider import FakeAnthropic
from integration.tool_broker.broker_harness import FAST_HEARTBEAT, BrokerStack, Orchestrator, broker_stack
from switchboard.cli.embedded_nats import EmbeddedNats


@pytest.fixture(scope="module")
def mcp(
    tmp_path_factory: pytest.TempPathFactory, nats_server: EmbeddedNats, fake_anthropic: FakeAnthropic
) -> Iterator[BrokerStack]:
    with broker_stack(tmp_path_factory.mktemp("mcp"), nats_server, fake_anthropic, **FAST_HEARTBEAT) as started:
        yield started


@pytest.fixture
async def orchestrator(mcp: BrokerStack, nats_url: str) -> AsyncIterator[Orchestrator]:
    async with Orchestrator.connected(nats_url, mcp.subjects) as playing:
        yield playing
