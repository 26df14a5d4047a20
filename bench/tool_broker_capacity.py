"""What idle WebSocket connectors cost the tool-broker, and the round trip of a tool call through it.

Run: ``.venv/bin/python bench/tool_broker_capacity.py [--connections 1000] [--calls 500] [--compression]``.
Starts NATS, the api-gateway (the key authority) and one tool-broker as real processes on loopback, then:

1. opens ``--connections`` WebSocket connectors (each registers its own MCP server, so the broker also holds one
   deliver subscription per connector) and reports the broker's resident memory (``VmRSS``) before and after;
2. sends ``--calls`` tool calls one after the other as the orchestrator does (a NATS request ``ExecuteToolCall``
   → broker → WebSocket connector → ``ToolCallCompleted``), to random connectors, and reports p50/p99;
3. sends the same number again with ``--concurrency`` in flight, and reports the throughput.

The connectors and the orchestrator share this one Python process, so the figures include its own overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import nats
from nats.aio.client import Client
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.anthropic_provider import FakeAnthropic
from support.stack import Stack
from switchboard.cli.embedded_nats import EmbeddedNats
from switchboard.common.ids import new_request_id, new_tool_use_id
from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import ExecuteToolCall, ToolCallCompleted

OPEN_CONCURRENCY = 50


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def raise_file_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the broker inherits it
    return hard


async def serve(socket: ClientConnection) -> None:
    """A connector that answers pings and echoes every call."""
    with contextlib.suppress(Exception):
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "ping":
                await socket.send('{"type":"pong"}')
            elif message["type"] == "tool_call":
                result = {"success": True, "content": json.dumps(message["input"])}
                await socket.send(json.dumps({"type": "tool_result", "call_id": message["call_id"], "result": result}))


@contextlib.asynccontextmanager
async def connectors(url: str, key: str, count: int) -> AsyncIterator[list[str]]:
    """``count`` registered connectors, each serving its own server; yields the server ids."""
    stack = contextlib.AsyncExitStack()
    tasks: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def open_one(index: int) -> str:
        async with gate:
            socket = await stack.enter_async_context(
                connect(url, additional_headers={"x-api-key": key}, ping_interval=None, open_timeout=30)
            )
            server_id = f"bench-{index}"
            await socket.send(json.dumps({"type": "register_tools", "server_id": server_id, "tools": ["echo"]}))
            while json.loads(await socket.recv())["type"] != "tools_registered":
                pass
            tasks.append(asyncio.create_task(serve(socket)))
            return server_id

    async with stack:
        servers = await asyncio.gather(*(open_one(index) for index in range(count)))
        try:
            yield servers
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def call(nc: Client, subjects: Subjects, user_id: str, server_id: str) -> float:
    command = ExecuteToolCall(
        request_id=new_request_id(), user_id=user_id, call_id=new_tool_use_id(), server_id=server_id,
        tool_name="echo", input={"text": "ping"}, timeout_s=10,
    )  # fmt: skip
    started = time.perf_counter()
    reply = await nc.request(subjects.execute_tool_call(user_id), command.model_dump_json().encode(), timeout=15)
    elapsed = time.perf_counter() - started
    completed = ToolCallCompleted.model_validate_json(reply.data)
    if completed.is_error:
        raise RuntimeError(f"call failed: {completed.content}")
    return elapsed


async def measure(stack: Stack, args: argparse.Namespace) -> None:
    port, broker = stack.tool_brokers[0]
    assert broker.process is not None
    pid, subjects = broker.process.pid, Subjects(stack.prefix)
    url = f"ws://127.0.0.1:{port}/api/mcp/ws/{stack.user_id}"
    await asyncio.sleep(1.0)
    before = rss_kib(pid)
    started = time.perf_counter()
    async with connectors(url, stack.api_key, args.connections) as servers:
        opened = time.perf_counter() - started
        await asyncio.sleep(2.0)  # let the first presence refresh and any allocation settle
        idle = rss_kib(pid)
        nc = await nats.connect(stack.nats_url)
        try:
            for _ in range(50):  # warm-up
                await call(nc, subjects, stack.user_id, random.choice(servers))
            sequential = [await call(nc, subjects, stack.user_id, random.choice(servers)) for _ in range(args.calls)]
            gate = asyncio.Semaphore(args.concurrency)

            async def limited() -> float:
                async with gate:
                    return await call(nc, subjects, stack.user_id, random.choice(servers))

            burst_started = time.perf_counter()
            concurrent = await asyncio.gather(*(limited() for _ in range(args.calls)))
            burst = time.perf_counter() - burst_started
        finally:
            await nc.drain()
        after_calls = rss_kib(pid)
    per_connection = (idle - before) / max(1, args.connections)
    print(f"connections: {args.connections} opened and registered in {opened:.1f} s")
    print(f"broker VmRSS: {before / 1024:.1f} MiB before, {idle / 1024:.1f} MiB with the connections "
          f"({per_connection:.1f} KiB each), {after_calls / 1024:.1f} MiB after the calls")  # fmt: skip
    print(f"sequential round trip over {len(sequential)} calls: p50 {percentile(sequential, 0.5) * 1e3:.2f} ms, "
          f"p99 {percentile(sequential, 0.99) * 1e3:.2f} ms, max {max(sequential) * 1e3:.2f} ms")  # fmt: skip
    p50, p99 = percentile(concurrent, 0.5) * 1e3, percentile(concurrent, 0.99) * 1e3
    print(f"{args.concurrency} in flight: {len(concurrent) / burst:.0f} calls/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--compression", action="store_true", help="SWITCHBOARD_MCP_WS_COMPRESSION=true")
    args = parser.parse_args()
    print(f"open files limit: {raise_file_limit()}")
    with tempfile.TemporaryDirectory() as scratch, FakeAnthropic() as fake:
        bus = EmbeddedNats(store_dir=Path(scratch) / "nats")
        bus.start()
        stack = Stack(workdir=Path(scratch) / "stack", nats_url=bus.url, fake=fake)
        try:
            stack.start(orchestrators=0)
            stack.extra_env = {
                "SWITCHBOARD_MCP_MAX_CONNECTIONS_PER_USER": str(args.connections + 10),
                "SWITCHBOARD_MCP_WS_COMPRESSION": "true" if args.compression else "false",
            }
            stack.add_tool_broker()
            asyncio.run(measure(stack, args))
        finally:
            stack.stop()
            bus.stop()


if __name__ == "__main__":
    main()
