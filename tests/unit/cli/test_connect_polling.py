"""The polling link of ``switchboard connect``: register, long-poll, submit; the broker is an in-memory transport."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fakes.mcp_notes_server import server_command
from switchboard.cli.connect.broker_http import BrokerHttp
from switchboard.cli.connect.errors import AuthenticationError, LinkDroppedError
from switchboard.cli.connect.mcp_bridge import open_bridge
from switchboard.cli.connect.options import ConnectOptions
from switchboard.cli.connect.polling_link import PollingLink
from switchboard.common.mcp_protocol import PollResponse, ToolCallMessage

USER = "bob"
Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def call(call_id: str, tool: str, deadline: timedelta = timedelta(minutes=1), **arguments: object) -> ToolCallMessage:
    now = datetime.now(UTC)
    return ToolCallMessage(
        call_id=call_id, tool=tool, input=arguments, timestamp=now.isoformat(), deadline=(now + deadline).isoformat()
    )


class PollingBroker:
    """Answers the four endpoints; hands out ``pending`` on the first poll and records what comes back."""

    def __init__(self, pending: list[ToolCallMessage], submit_failures: int = 0) -> None:
        self.pending = pending
        self.submit_failures = submit_failures
        self.bodies: dict[str, list[dict[str, object]]] = {}
        self.submitted: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.poll_times: list[float] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.bodies.setdefault(path, []).append(json.loads(request.content) if request.content else {})
        if path == "/api/mcp/status":
            return httpx.Response(200, json={"user_id": USER, "connections": []})
        if path == "/api/mcp/register":
            return httpx.Response(200, json={"status": "registered", "server_id": "notes", "method": "polling"})
        if path == "/api/mcp/poll":
            self.poll_times.append(time.monotonic())
            pending, self.pending = self.pending, []
            if not pending:
                await asyncio.sleep(0.05)  # a long poll that found nothing
            return httpx.Response(200, content=PollResponse(pending_calls=pending).model_dump_json())
        if path == "/api/mcp/submit":
            if self.submit_failures:
                self.submit_failures -= 1
                raise httpx.ConnectError("connection refused", request=request)
            await self.submitted.put(self.bodies[path][-1])
            status = 404 if self.bodies[path][-1]["call_id"] == "gone" else 200
            return httpx.Response(status, json={"status": "accepted"})
        return httpx.Response(404)


@contextlib.asynccontextmanager
async def polling(handler: Handler, max_concurrency: int = 4) -> AsyncIterator[PollingLink]:
    options = ConnectOptions(
        url="http://broker.test", key="k", command=tuple(server_command()), poll=True, max_concurrency=max_concurrency
    )
    async with (
        open_bridge(server_command(), tool_timeout=10) as bridge,
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client,
    ):
        link = PollingLink(options, BrokerHttp(options, client), bridge, "notes", await bridge.list_tools())
        try:
            yield link
        finally:
            await link.aclose()


async def test_registers_polls_and_submits_results() -> None:
    broker = PollingBroker(
        [
            call("p1", "add", a=2, b=3),
            call("p2", "read_note", name="nope"),
            call("late", "add", deadline=timedelta(seconds=-1), a=1, b=1),
            call("gone", "whoami"),
        ]
    )
    async with polling(broker) as link:
        task = asyncio.create_task(link.serve(lambda: None))
        submitted = [await asyncio.wait_for(broker.submitted.get(), 10) for _ in range(3)]
        await asyncio.sleep(0.2)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    register = broker.bodies["/api/mcp/register"][0]
    assert (register["user_id"], register["server_id"], register["method"]) == (USER, "notes", "polling")
    assert isinstance(register["tools"], list) and "inputSchema" in register["tools"][0]
    poll = broker.bodies["/api/mcp/poll"][0]
    assert poll == {"user_id": USER, "server_id": "notes", "wait": 20.0, "max_calls": 4}
    by_id = {body["call_id"]: body["result"] for body in submitted}
    assert set(by_id) == {"p1", "p2", "gone"}, "a call past its deadline is not run"
    assert by_id["p1"] == {"success": True, "content": [{"type": "text", "text": "5"}]}
    assert by_id["p2"] == {"success": False, "error": "Error executing tool read_note: no note named 'nope'"}
    assert broker.submitted.empty()


async def test_a_failed_submit_is_retried() -> None:
    broker = PollingBroker([call("p1", "add", a=1, b=1)], submit_failures=1)
    async with polling(broker) as link:
        task = asyncio.create_task(link.serve(lambda: None))
        body = await asyncio.wait_for(broker.submitted.get(), 10)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert body["call_id"] == "p1"
    assert len(broker.bodies["/api/mcp/submit"]) == 2


async def test_only_free_slots_are_polled_for() -> None:
    broker = PollingBroker([call("s1", "slow_echo", text="a", seconds=0.5)])
    async with polling(broker, max_concurrency=1) as link:
        task = asyncio.create_task(link.serve(lambda: None))
        await asyncio.wait_for(broker.submitted.get(), 10)
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert all(body["max_calls"] == 1 for body in broker.bodies["/api/mcp/poll"])
    # While the one slot was busy no poll was made: the second poll came after the slow call ended.
    assert len(broker.poll_times) >= 2
    assert broker.poll_times[1] - broker.poll_times[0] >= 0.45


async def refuse(request: httpx.Request) -> httpx.Response:
    body = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
    return httpx.Response(401, json=body)


async def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def broken(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/mcp/status":
        return httpx.Response(200, json={"user_id": USER, "connections": []})
    return httpx.Response(503, json={"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})


@pytest.mark.parametrize(
    ("handler", "error", "message"),
    [
        (refuse, AuthenticationError, "refused the key \\(HTTP 401\\): invalid x-api-key"),
        (unreachable, LinkDroppedError, "cannot reach http://broker.test/api/mcp/status"),
        (broken, LinkDroppedError, "POST /api/mcp/register answered HTTP 503: busy"),
    ],
)
async def test_failures(handler: Handler, error: type[Exception], message: str) -> None:
    async with polling(handler) as link:
        with pytest.raises(error, match=message):
            await link.serve(lambda: None)
