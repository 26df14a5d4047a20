"""Both sides of a tool-broker, played by the tests: the orchestrator (raw nats-py) and connectors (WebSocket, HTTP).

Every process under test is real: NATS, the api-gateway (the key authority) and ``python -m
switchboard.tool_broker`` replicas, started through ``support.stack.Stack``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from websockets.asyncio.client import ClientConnection, connect

from fakes.anthropic_provider import FakeAnthropic
from support.stack import Stack
from switchboard.api_gateway.keys.admin import create_api_key
from switchboard.api_gateway.settings import GatewaySettings
from switchboard.cli.embedded_nats import EmbeddedNats
from switchboard.common.ids import new_request_id, new_tool_use_id
from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import ExecuteToolCall, ListTools, McpTool, ToolCallCompleted, ToolsListed

__all__ = [
    "ECHO_TOOLS",
    "FAST_HEARTBEAT",
    "BrokerStack",
    "Connector",
    "Orchestrator",
    "broker_stack",
    "mint_key",
    "ws_url",
]

FAST_HEARTBEAT = {"SWITCHBOARD_MCP_HEARTBEAT_INTERVAL": "1", "SWITCHBOARD_MCP_IDLE_TIMEOUT": "30"}
"""Broker settings for tests: a ping a second, so heartbeats show within a test."""

ECHO_TOOLS: list[object] = [
    {
        "name": "echo",
        "description": "Answers with its input",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string"}, "count": {"type": "integer", "minimum": 0}},
            "required": ["text"],
        },
    },
    "anything",
]
"""A schema-checked tool and a bare name (any input)."""


@dataclass
class BrokerStack:
    stack: Stack
    broker_url: str

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.stack.prefix)

    @property
    def user_id(self) -> str:
        return self.stack.user_id

    @property
    def key(self) -> str:
        return self.stack.api_key


@contextlib.contextmanager
def broker_stack(
    workdir: Path, nats_server: EmbeddedNats, fake: FakeAnthropic, **broker_env: str
) -> Iterator[BrokerStack]:
    """A gateway and one tool-broker on a prefix of their own; ``broker_env`` configures the broker."""
    stack = Stack(
        workdir=workdir,
        nats_url=nats_server.url,
        fake=fake,
        nats_monitor_url=f"http://127.0.0.1:{nats_server.monitor_port}",
    )
    try:
        stack.start(orchestrators=0)
        stack.extra_env = {"SWITCHBOARD_LOG_LEVEL": "INFO", **broker_env}
        yield BrokerStack(stack, stack.add_tool_broker())
    finally:
        stack.stop()


async def mint_key(stack: Stack, user_id: str) -> tuple[str, str]:
    """A fresh API key of ``user_id``: ``(secret, key_id)``."""
    created = await create_api_key(GatewaySettings.model_validate(stack.env()), user_id=user_id, name="test")
    return created.secret, created.key_id


def ws_url(base_url: str, user_id: str) -> str:
    return "ws" + base_url.removeprefix("http") + f"/api/mcp/ws/{user_id}"


@dataclass
class Orchestrator:
    """The orchestrator's side of the bus: ``ExecuteToolCall`` requests and ``ListTools``."""

    nc: Client
    subjects: Subjects

    @classmethod
    @contextlib.asynccontextmanager
    async def connected(cls, nats_url: str, subjects: Subjects) -> AsyncIterator[Orchestrator]:
        connection = await nats.connect(nats_url)
        try:
            yield cls(connection, subjects)
        finally:
            await connection.drain()

    def command(self, user_id: str, server_id: str, tool: str, tool_input: dict[str, Any] | None = None,
                *, timeout: float = 5.0, call_id: str | None = None) -> ExecuteToolCall:  # fmt: skip
        return ExecuteToolCall(
            request_id=new_request_id(),
            user_id=user_id,
            call_id=call_id or new_tool_use_id(),
            server_id=server_id,
            tool_name=tool,
            input=tool_input or {},
            timeout_s=timeout,
        )

    async def send(self, command: ExecuteToolCall, grace: float = 3.0) -> ToolCallCompleted:
        subject = self.subjects.execute_tool_call(command.user_id)
        reply = await self._request(subject, command.model_dump_json().encode(), command.timeout_s + grace)
        completed = ToolCallCompleted.model_validate_json(reply)
        assert completed.call_id == command.call_id
        return completed

    async def call(self, user_id: str, server_id: str, tool: str, tool_input: dict[str, Any] | None = None,
                   *, timeout: float = 5.0) -> ToolCallCompleted:  # fmt: skip
        return await self.send(self.command(user_id, server_id, tool, tool_input, timeout=timeout))

    async def list_tools(self, user_id: str, *, live_only: bool = True) -> list[McpTool]:
        payload = ListTools(user_id=user_id, live_only=live_only).model_dump_json().encode()
        return ToolsListed.model_validate_json(await self._request(self.subjects.list_tools, payload, 5.0)).tools

    async def _request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        for _ in range(5):  # the first request after a subscription can find no responders
            try:
                return (await self.nc.request(subject, payload, timeout=timeout)).data
            except nats.errors.NoRespondersError:
                await asyncio.sleep(0.1)
        raise AssertionError(f"nobody answers on {subject}")


Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


async def echo(call: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "content": json.dumps(call["input"], sort_keys=True)}


@dataclass
class Connector:
    """One WebSocket connector: registers, then answers ``tool_call``s with ``handler`` in the background."""

    socket: ClientConnection
    handler: Handler = echo
    calls: list[dict[str, Any]] = field(default_factory=list)
    other: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    """Everything else the broker sent (errors, tools_registered), pings excepted."""
    pings: int = 0
    _reader: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, base_url: str, key: str, user_id: str, *, handler: Handler = echo,
                   **options: Any) -> AsyncIterator[Connector]:  # fmt: skip
        async with connect(ws_url(base_url, user_id), additional_headers={"x-api-key": key}, **options) as socket:
            connector = cls(socket, handler)
            connector._reader = asyncio.create_task(connector._read())
            try:
                yield connector
            finally:
                connector._reader.cancel()
                await asyncio.gather(connector._reader, return_exceptions=True)

    async def register(self, server_id: str, tools: list[object] | None = None) -> dict[str, Any]:
        await self.send(
            {"type": "register_tools", "server_id": server_id, "tools": ECHO_TOOLS if tools is None else tools}
        )
        return await self.expect("tools_registered")

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def expect(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        message = await self.expect_any(timeout)
        assert message["type"] == kind, message
        return message

    async def expect_any(self, timeout: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.other.get(), timeout)

    async def closed(self, timeout: float = 10.0) -> int | None:
        """Wait until the broker closes the socket; its close code."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.socket.wait_closed(), timeout)
        return self.socket.close_code

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.socket:
                message = json.loads(raw)
                if message["type"] == "ping":
                    self.pings += 1
                    await self.send({"type": "pong"})
                elif message["type"] == "tool_call":
                    self.calls.append(message)
                    asyncio.create_task(self._answer(message))  # noqa: RUF006 - ends with the call
                else:
                    await self.other.put(message)

    async def _answer(self, call: dict[str, Any]) -> None:
        result = await self.handler(call)
        if result is not None:
            with contextlib.suppress(Exception):
                await self.send({"type": "tool_result", "call_id": call["call_id"], "result": result})
