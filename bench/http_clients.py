"""Why the orchestrator calls providers with aiohttp: CPU per request of httpx and aiohttp against the fake.

``.venv/bin/python -m bench.http_clients [--requests 4000] [--concurrency 16]``: one pooled client of each, the
same fake upstream, the same uvloop loop; prints the process's CPU time per request and the request rate.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import uvloop

from bench.systems import FakeUpstream

__all__ = ["main"]

_BODY = b'{"model":"claude-bench","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
_HEADERS = {"content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "sk-bench"}

Send = Callable[[], Awaitable[None]]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _drive(send: Send, requests: int, concurrency: int) -> tuple[float, float]:
    """``(CPU ms per request, requests per second)`` after a warm-up round."""

    async def worker(count: int) -> None:
        for _ in range(count):
            await send()

    await worker(concurrency)
    cpu, started = _cpu(), time.perf_counter()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    return 1000 * (_cpu() - cpu) / requests, requests / (time.perf_counter() - started)


async def _httpx(url: str, requests: int, concurrency: int) -> tuple[float, float]:
    async with httpx.AsyncClient() as client:

        async def send() -> None:
            (await client.post(url, content=_BODY, headers=_HEADERS)).raise_for_status()

        return await _drive(send, requests, concurrency)


async def _aiohttp(url: str, requests: int, concurrency: int) -> tuple[float, float]:
    async with aiohttp.ClientSession() as session:

        async def send() -> None:
            async with session.post(url, data=_BODY, headers=_HEADERS, raise_for_status=True) as response:
                await response.read()

        return await _drive(send, requests, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_clients", description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    upstream = FakeUpstream(deltas=16)
    upstream.start()
    try:
        url = f"{upstream.url}/v1/messages"
        for name, client in (("httpx", _httpx), ("aiohttp", _aiohttp)):
            cpu_ms, rate = uvloop.run(client(url, args.requests, args.concurrency))
            print(f"{name:8s} {cpu_ms:.3f} ms CPU per request, {rate:.0f} requests/s")
    finally:
        upstream.stop()


if __name__ == "__main__":
    main()
