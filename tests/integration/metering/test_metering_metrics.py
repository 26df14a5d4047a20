"""Metering's ops endpoint against the fake Lago: billed events, failures by reason, delivery lag, readiness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fakes.lago import FakeLago
from support.metering import MeteringHarness, make_completion
from switchboard.cli.embedded_nats import free_port


@pytest.fixture
def lago() -> Iterator[FakeLago]:
    with FakeLago() as fake:
        yield fake


async def scrape(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{base}/metrics", timeout=5)).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def status_of(base: str, path: str) -> int | None:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(f"{base}{path}", timeout=2)).status_code
    except httpx.HTTPError:
        return None


async def until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_billing_failures_and_lag_are_counted(tmp_path: Path, nats_url: str, lago: FakeLago) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with MeteringHarness(nats_url, tmp_path, lago, SWITCHBOARD_OPS_PORT=str(port)) as bus:
        lago.fail_next(1, status=503)
        lago.rate_limit_next(1, reset_seconds=1)
        lago.delay_next(1, 2.0)  # beyond the 1 s client timeout: stored, then a duplicate on the retry
        bus.start()

        async def ready() -> bool:
            return await status_of(base, "/readyz") == 200

        await until(ready, "metering ready")
        assert await status_of(base, "/livez") == 200
        completions = [make_completion(f"req_{i}") for i in range(3)]
        await bus.publish(*completions)
        await bus.eventually(lambda: len(set(lago.transaction_ids())) == 3, "billed after retries", timeout=40)
        await bus.settled(timeout=30)

        async def billed() -> bool:
            return value(await scrape(base), "switchboard_metering_billed_events_total") >= 3

        await until(billed, "the billed count")
        samples = await scrape(base)
        failures = "switchboard_metering_delivery_failures_total"
        assert value(samples, "switchboard_metering_billed_events_total") == 3
        assert value(samples, failures, reason="http_5xx") == 1
        assert value(samples, failures, reason="http_429") == 1
        assert value(samples, failures, reason="timeout") == 1
        assert value(samples, failures, reason="http_4xx") == 0, "a duplicate Lago already had is no failure"
        assert value(samples, "switchboard_metering_delivery_lag_seconds_count") == 3
        assert value(samples, "switchboard_metering_delivery_lag_seconds_sum") > 0
        assert value(samples, "switchboard_nats_rtt_seconds", service="metering") > 0
        assert value(samples, "switchboard_metering_dead_letters") == 0


async def test_readiness_is_503_while_draining_a_batch_lago_will_not_take(
    tmp_path: Path, nats_url: str, lago: FakeLago
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with MeteringHarness(nats_url, tmp_path, lago, SWITCHBOARD_OPS_PORT=str(port)) as bus:
        lago.set_down("503")
        process = bus.start()

        async def failing() -> bool:
            samples = await scrape(base) if await status_of(base, "/livez") == 200 else {}
            return value(samples, "switchboard_metering_delivery_failures_total", reason="http_5xx") >= 1

        await bus.publish(make_completion("req_stuck"))
        await until(failing, "a failed delivery")
        assert await status_of(base, "/readyz") == 200, "a Lago outage does not make the replica unready"
        assert process.process is not None
        process.process.terminate()  # the batch in hand keeps it alive for the grace period

        async def draining() -> bool:
            return await status_of(base, "/readyz") == 503

        await until(draining, "not ready while draining", timeout=5)
        assert await status_of(base, "/livez") == 200
