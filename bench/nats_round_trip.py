"""The floor under Switchboard's added latency: one NATS round trip between two Python processes, on this machine.

``.venv/bin/python -m bench.nats_round_trip``: starts a private nats-server (2.12, JetStream) and a responder
process, then times 2000 sequential core request/replies and 2000 JetStream publishes (each waits for its ack).
Every Switchboard request makes at least one such round trip (gateway → orchestrator → gateway) and one
JetStream acknowledgement (the rate-limit counter).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nats
import uvloop
from nats.aio.msg import Msg

from switchboard.cli.embedded_nats import EmbeddedNats

__all__ = ["main"]

_SUBJECT = "bench.round_trip"
_SAMPLES = 2000
_WARMUP = 200


async def _respond(url: str) -> None:
    connection = await nats.connect(url)

    async def answer(message: Msg) -> None:
        await message.respond(b"ok")

    await connection.subscribe(_SUBJECT, cb=answer)
    await asyncio.Event().wait()


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
    return f"p50 {p50 * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms"


async def _measure(url: str) -> None:
    connection = await nats.connect(url)
    for _ in range(_WARMUP):
        await connection.request(_SUBJECT, b"x", timeout=2)
    samples = []
    for _ in range(_SAMPLES):
        started = time.perf_counter()
        await connection.request(_SUBJECT, b"x", timeout=2)
        samples.append(time.perf_counter() - started)
    print(f"core request/reply between two processes: {_percentiles(samples)}")
    jetstream = connection.jetstream()
    await jetstream.add_stream(name="BENCH_ROUND_TRIP", subjects=["bench.stream.>"])
    samples = []
    for _ in range(_SAMPLES):
        started = time.perf_counter()
        await jetstream.publish("bench.stream.x", b"x")
        samples.append(time.perf_counter() - started)
    print(f"JetStream publish, waiting for the ack:   {_percentiles(samples)}")
    await connection.drain()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "respond":
        uvloop.run(_respond(sys.argv[2]))
        return
    with tempfile.TemporaryDirectory(prefix="switchboard-rtt-") as store:
        server = EmbeddedNats(Path(store))
        server.start()
        responder = subprocess.Popen([sys.executable, "-m", "bench.nats_round_trip", "respond", server.url])
        try:
            time.sleep(1.0)
            uvloop.run(_measure(server.url))
        finally:
            responder.terminate()
            responder.wait(timeout=10)
            server.stop()


if __name__ == "__main__":
    main()
