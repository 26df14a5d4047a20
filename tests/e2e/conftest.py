"""Deployments only the end-to-end tests use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.anthropic_provider import FakeAnthropic
from support.mcp_agents import mcp_routing_config
from support.stack import Stack
from switchboard.cli.embedded_nats import EmbeddedNats


@pytest.fixture(scope="session")
def mcp_stack(
    tmp_path_factory: pytest.TempPathFactory, nats_server: EmbeddedNats, fake_anthropic: FakeAnthropic
) -> Iterator[Stack]:
    """Gateway, orchestrator and tool-broker with agents configured; connectors are each test's own."""
    stack = Stack(
        workdir=tmp_path_factory.mktemp("mcp-stack"),
        nats_url=nats_server.url,
        fake=fake_anthropic,
        nats_monitor_url=f"http://127.0.0.1:{nats_server.monitor_port}",
        routing_config=mcp_routing_config(),
    )
    try:
        stack.start(orchestrators=1)
        stack.add_tool_broker()
        yield stack
    finally:
        stack.stop()
