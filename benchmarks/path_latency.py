"""Added latency of the Switchboard path versus calling the (fake) provider directly.

Run: ``.venv/bin/python benchmarks/path_latency.py [--requests 300]``. Starts NATS, the fake provider, one
orchestrator and one gateway as real processes on loopback, then measures, with one keep-alive client each way:
non-streaming round trip, and streaming time to first ``content_block_delta``. Prints p50/p99 for both paths and
the difference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.anthropic_provider import FakeAnthropic
from support.stack import Stack
from switchboard.cli.embedded_nats import EmbeddedNats

BODY = {"model": "claude-opus-5", "max_tokens": 64, "messages": [{"role": "user", "content": "[[fake:words=20]] hi"}]}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def round_trip(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    response = client.post(url, json=BODY)
    response.raise_for_status()
    return time.perf_counter() - started


def time_to_first_token(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    with client.stream("POST", url, json={**BODY, "stream": True}) as response:
        response.raise_for_status()
        elapsed: float | None = None
        for line in response.iter_lines():
            if elapsed is None and line == "event: content_block_delta":
                elapsed = time.perf_counter() - started
    if elapsed is None:
        raise RuntimeError("stream ended without a content_block_delta")
    return elapsed


def measure(client: httpx.Client, url: str, requests: int) -> dict[str, list[float]]:
    for _ in range(20):
        round_trip(client, url)
        time_to_first_token(client, url)
    return {
        "non-streaming": [round_trip(client, url) for _ in range(requests)],
        "ttft": [time_to_first_token(client, url) for _ in range(requests)],
    }


def report(direct: dict[str, list[float]], gateway: dict[str, list[float]]) -> None:
    print(f"{'metric':<16}{'direct p50':>12}{'direct p99':>12}{'gateway p50':>13}{'gateway p99':>13}"
          f"{'added p50':>11}{'added p99':>11}  (ms)")  # fmt: skip
    for metric in ("non-streaming", "ttft"):
        d50, d99 = percentile(direct[metric], 0.5) * 1e3, percentile(direct[metric], 0.99) * 1e3
        g50, g99 = percentile(gateway[metric], 0.5) * 1e3, percentile(gateway[metric], 0.99) * 1e3
        print(f"{metric:<16}{d50:>12.2f}{d99:>12.2f}{g50:>13.2f}{g99:>13.2f}{g50 - d50:>11.2f}{g99 - d99:>11.2f}")
    print(f"samples per cell: {len(direct['ttft'])}; stdev gateway ttft "
          f"{statistics.pstdev(gateway['ttft']) * 1e3:.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, FakeAnthropic() as fake:
        nats = EmbeddedNats(store_dir=Path(scratch) / "nats")
        nats.start()
        stack = Stack(workdir=Path(scratch) / "stack", nats_url=nats.url, fake=fake)
        try:
            stack.start(orchestrators=1)
            upstream_headers = {"x-api-key": fake.api_key, "anthropic-version": "2023-06-01"}
            gateway_headers = {"x-api-key": stack.api_key, "anthropic-version": "2023-06-01"}
            with httpx.Client(headers=upstream_headers, timeout=30) as client:
                direct = measure(client, f"{fake.url}/v1/messages", args.requests)
            with httpx.Client(headers=gateway_headers, timeout=30) as client:
                gateway = measure(client, f"{stack.base_url}/v1/messages", args.requests)
        finally:
            stack.stop()
            nats.stop()
    report(direct, gateway)


if __name__ == "__main__":
    main()
