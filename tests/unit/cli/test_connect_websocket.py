"""The WebSocket link of ``switchboard connect`` against a stand-in broker on 127.0.0.1 and the real notes server.

The stand-in speaks the connector protocol (docs/mcp.md) with the shared models: ``GET /api/mcp/status`` and the
WebSocket ``/api/mcp/ws/{user_id}``. It registers, then hands each connection to the test to drive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Literal

import httpx
import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from fakes.mcp_notes_server import server_command
from switchboard.cli.connect.broker_http import BrokerHttp
from switchboard.cli.connect.errors import AuthenticationError, LinkDroppedError, McpServerError
from switchboard.cli.connect.mcp_bridge import McpBridge, open_bridge
from switchboard.cli.connect.options import ConnectOptions
from switchboard.cli.connect.run import serve_connector
from switchboard.cli.connect.websocket_link import WebSocketLink
from switchboard.common.mcp_protocol import ErrorDetail, ErrorMessage, RegisterTools, ToolCallMessage, ToolsRegistered

KEY = "sk-test-connector"
USER = "alice"
Script = Literal["accept", "close_4403", "refuse_auth", "refuse_other", "close_1011"]


class FakeBroker:
    def __init__(self, script: Script = "accept") -> None:
        self.script = script
        self.registrations: list[RegisterTools] = []
        self.connections: asyncio.Queue[ServerConnection] = asyncio.Queue()
        self._server: Server | None = None
        self.url = ""

    async def __aenter__(self) -> FakeBroker:
        self._server = await serve(self._handle, "127.0.0.1", 0, process_request=self._http)
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("x-api-key") != KEY:
            body = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
            return connection.respond(HTTPStatus.UNAUTHORIZED, json.dumps(body))
        if request.path == "/api/mcp/status":
            return connection.respond(HTTPStatus.OK, json.dumps({"user_id": USER, "connections": []}))
        return None if request.path == f"/api/mcp/ws/{USER}" else connection.respond(HTTPStatus.FORBIDDEN, "{}")

    async def _handle(self, websocket: ServerConnection) -> None:
        if self.script == "close_4403":
            await websocket.close(4403, "not your user")
            return
        register = RegisterTools.model_validate_json(await websocket.recv())
        self.registrations.append(register)
        if self.script in ("refuse_auth", "refuse_other"):
            kind = "permission_error" if self.script == "refuse_auth" else "invalid_request_error"
            await websocket.send(ErrorMessage(error=ErrorDetail(type=kind, message="no")).model_dump_json())
            await websocket.wait_closed()
            return
        names = [tool if isinstance(tool, str) else tool.name for tool in register.tools]
        answer = ToolsRegistered(server_id=register.server_id, connection_id=f"c{len(self.registrations)}", tools=names)
        await websocket.send(answer.model_dump_json())
        if self.script == "close_1011":
            await websocket.close(1011, "broker restarting")
            return
        await self.connections.put(websocket)
        await websocket.wait_closed()


def tool_call(call_id: str, tool: str, **arguments: object) -> str:
    stamp = datetime.now(UTC).isoformat()
    return ToolCallMessage(
        call_id=call_id, tool=tool, input=arguments, timestamp=stamp, server_id="notes"
    ).model_dump_json()


def options_for(broker: FakeBroker, key: str = KEY) -> ConnectOptions:
    return ConnectOptions(url=broker.url, key=key, command=tuple(server_command()), server_id="notes")


@contextlib.asynccontextmanager
async def linked(broker: FakeBroker, key: str = KEY) -> AsyncIterator[tuple[WebSocketLink, McpBridge]]:
    async with open_bridge(server_command(), tool_timeout=10) as bridge, httpx.AsyncClient() as client:
        options = options_for(broker, key)
        client.headers["x-api-key"] = key
        yield WebSocketLink(options, BrokerHttp(options, client), bridge, "notes", await bridge.list_tools()), bridge


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def next_message(websocket: ServerConnection) -> dict[str, object]:
    message: dict[str, object] = json.loads(await asyncio.wait_for(websocket.recv(), 10))
    return message


async def test_registers_the_tools_then_serves_calls_concurrently() -> None:
    async with FakeBroker() as broker, linked(broker) as (link, _):
        registered = asyncio.Event()
        task = asyncio.create_task(link.serve(registered.set))
        websocket = await asyncio.wait_for(broker.connections.get(), 10)
        assert registered.is_set()
        register = broker.registrations[0]
        assert register.server_id == "notes"
        wire = json.loads(register.model_dump_json(by_alias=True))
        add = next(tool for tool in wire["tools"] if tool["name"] == "add")
        assert add["inputSchema"]["required"] == ["a", "b"]

        await websocket.send(tool_call("slow", "slow_echo", text="late", seconds=1))
        await websocket.send(tool_call("fast", "add", a=1, b=2))
        await websocket.send(tool_call("bad", "read_note", name="missing"))
        await websocket.send(json.dumps({"type": "ping"}))
        await websocket.send(json.dumps({"type": "from_the_future", "x": 1}))
        await websocket.send("not json")
        received = [await next_message(websocket) for _ in range(4)]
        await stop(task)

    assert {"type": "pong"} in received
    results = [message for message in received if message["type"] == "tool_result"]
    assert [result["call_id"] for result in results][-1] == "slow", "a slow call must not hold up the others"
    by_id = {result["call_id"]: result["result"] for result in results}
    assert by_id["fast"] == {"success": True, "content": [{"type": "text", "text": "3"}]}
    assert by_id["bad"] == {"success": False, "error": "Error executing tool read_note: no note named 'missing'"}
    assert by_id["slow"] == {"success": True, "content": [{"type": "text", "text": "late"}]}


@pytest.mark.parametrize(
    ("script", "key", "error", "message"),
    [
        ("accept", "sk-wrong", AuthenticationError, "HTTP 401"),
        ("close_4403", KEY, AuthenticationError, "4403"),
        ("refuse_auth", KEY, AuthenticationError, "permission_error"),
        ("refuse_other", KEY, LinkDroppedError, "invalid_request_error"),
        ("close_1011", KEY, LinkDroppedError, "1011: broker restarting"),
    ],
)
async def test_refusals_and_drops(script: Script, key: str, error: type[Exception], message: str) -> None:
    async with FakeBroker(script) as broker, linked(broker, key) as (link, _):
        with pytest.raises(error, match=message):
            await asyncio.wait_for(link.serve(lambda: None), 10)


async def test_an_unreachable_broker_is_a_drop_not_a_crash() -> None:
    async with FakeBroker() as broker:
        pass  # closed: its port now refuses connections
    async with linked(broker) as (link, _):
        with pytest.raises(LinkDroppedError, match="cannot reach"):
            await link.serve(lambda: None)


async def test_reconnects_and_reregisters_with_the_same_mcp_server(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="switchboard.cli.connect")
    async with FakeBroker() as broker:
        task = asyncio.create_task(serve_connector(options_for(broker)))
        pids = []
        for _ in range(2):
            websocket = await asyncio.wait_for(broker.connections.get(), 15)
            await websocket.send(tool_call("who", "whoami"))
            result = (await next_message(websocket))["result"]
            assert isinstance(result, dict)
            pids.append(result["content"][0]["text"])
            await websocket.close(1012, "service restart")
        await stop(task)
    assert len(broker.registrations) >= 2
    assert pids[0] == pids[1], "the MCP server is started once and kept across reconnects"
    connected = [record.getMessage() for record in caplog.records if record.getMessage().startswith("connected to")]
    assert connected[0] == f"connected to {broker.url} as user {USER}, server notes, 6 tools (WebSocket, connection c1)"
    assert "reconnecting in" in caplog.text
    assert KEY not in caplog.text


async def test_the_connector_stops_when_its_mcp_server_exits() -> None:
    async with FakeBroker() as broker:
        task = asyncio.create_task(serve_connector(options_for(broker)))
        websocket = await asyncio.wait_for(broker.connections.get(), 15)
        await websocket.send(tool_call("who", "whoami"))
        result = (await next_message(websocket))["result"]
        assert isinstance(result, dict)
        os.kill(int(result["content"][0]["text"]), signal.SIGKILL)
        with pytest.raises(McpServerError, match="process ended"):
            await asyncio.wait_for(task, 15)
