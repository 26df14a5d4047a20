"""``switchboard events inspect`` reports the streams, consumers, KV buckets and connections a real server has."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats
import pytest
from nats.js.api import ConsumerConfig, KeyValueConfig, StreamConfig

from switchboard.cli.embedded_nats import EmbeddedNats
from switchboard.cli.events.inspect import collect, run_inspect


@dataclass(frozen=True)
class Fixture:
    prefix: str
    stream: str
    bucket: str


@pytest.fixture
async def populated(nats_server: EmbeddedNats) -> AsyncIterator[Fixture]:
    """A stream with 3 messages, a consumer that has fetched 1 without acking, a bucket with 2 live keys."""
    prefix = f"sbi{secrets.token_hex(4)}"
    names = Fixture(prefix, f"{prefix.upper()}_EVENTS", f"{prefix.upper()}_KV")
    connection = await nats.connect(nats_server.url, name=f"{prefix}-client")
    js = connection.jetstream()
    await js.add_stream(StreamConfig(name=names.stream, subjects=[f"{prefix}.events.>"]))
    for index in range(3):
        await js.publish(f"{prefix}.events.{index}", b"{}")
    await js.add_consumer(names.stream, ConsumerConfig(durable_name="reader", ack_wait=60))
    subscription = await js.pull_subscribe_bind("reader", names.stream)
    await subscription.fetch(1, timeout=5)  # delivered, never acked: one ack pending, two pending
    bucket = await js.create_key_value(KeyValueConfig(bucket=names.bucket, history=5))
    for key in ("a", "b", "c"):
        await bucket.put(key, b"1")
    await bucket.delete("c")
    try:
        yield names
    finally:
        await js.delete_stream(names.stream)
        await js.delete_key_value(names.bucket)
        await connection.close()


async def test_collect_reports_stream_consumer_bucket_and_connection(
    nats_server: EmbeddedNats, populated: Fixture
) -> None:
    report = await collect(nats_server.url, f"http://127.0.0.1:{nats_server.monitor_port}")

    assert "error" not in report
    assert report["server"]["version"].startswith("2.")
    assert report["jetstream"]["enabled"] is True
    stream = next(s for s in report["streams"] if s["name"] == populated.stream)
    assert (stream["messages"], stream["first_seq"], stream["last_seq"]) == (3, 1, 3)
    assert stream["subjects"] == [f"{populated.prefix}.events.>"]
    consumer = next(c for c in report["consumers"] if c["stream"] == populated.stream)
    assert (consumer["name"], consumer["pending"], consumer["ack_pending"]) == ("reader", 2, 1)
    assert consumer["last_active"] is not None
    bucket = next(b for b in report["kv_buckets"] if b["name"] == populated.bucket)
    assert (bucket["keys"], bucket["history"]) == (2, 5)
    assert any(conn["name"] == f"{populated.prefix}-client" for conn in report["connections"])


async def test_run_inspect_prints_tables_and_json(nats_server: EmbeddedNats, populated: Fixture) -> None:
    monitor = f"http://127.0.0.1:{nats_server.monitor_port}"
    text, machine = io.StringIO(), io.StringIO()
    # run_inspect owns its event loop (it is the command's entry point), so it runs in a thread here.
    assert await asyncio.to_thread(run_inspect, nats_server.url, monitor, False, text) == 0
    assert await asyncio.to_thread(run_inspect, nats_server.url, monitor, True, machine) == 0

    lines = text.getvalue().splitlines()
    assert any(line.split()[:2] == [populated.stream, "3"] for line in lines)
    assert any(line.split()[:5] == [populated.stream, "reader", "2", "1", "0"] for line in lines)
    assert any(line.split()[:3] == [populated.bucket, "2", "5"] for line in lines)
    assert json.loads(machine.getvalue())["monitor_url"] == monitor


async def test_without_monitoring_the_jetstream_part_is_still_reported(
    nats_server: EmbeddedNats, populated: Fixture
) -> None:
    report = await collect(nats_server.url, "http://127.0.0.1:1")
    assert "unavailable" in report["error"]
    assert any(s["name"] == populated.stream for s in report["streams"])


async def test_unreachable_server_is_an_error_exit() -> None:
    code = await asyncio.to_thread(run_inspect, "nats://127.0.0.1:1", "http://127.0.0.1:1", False, io.StringIO())
    assert code == 1
