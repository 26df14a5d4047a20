"""``switchboard events inspect``: the server, its streams, consumers, KV buckets and connections in one report.

Streams, consumers and buckets come from the JetStream management API (nats-py); the server version, JetStream
totals and client connections come from the monitoring endpoints (``/varz``, ``/jsz``, ``/connz``). Without the
monitoring port the JetStream part is still reported.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any, TextIO

import httpx
import nats
import nats.errors
import nats.js.errors
from nats.js.client import JetStreamContext

from switchboard.cli.events.report import render_report

__all__ = ["collect", "run_inspect"]

_KV_PREFIX = "KV_"
_MONITOR_TIMEOUT_SECONDS = 5.0


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _streams(js: JetStreamContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    streams, consumers = [], []
    for info in await js.streams_info():
        state, name = info.state, info.config.name or ""
        streams.append(
            {
                "name": name,
                "subjects": list(info.config.subjects or []),
                "messages": state.messages,
                "bytes": state.bytes,
                "first_seq": state.first_seq,
                "last_seq": state.last_seq,
                "consumers": state.consumer_count,
            }
        )
        for consumer in await js.consumers_info(name):
            delivered = consumer.delivered
            consumers.append(
                {
                    "stream": consumer.stream_name,
                    "name": consumer.name,
                    "filter_subject": consumer.config.filter_subject,
                    "pending": consumer.num_pending or 0,
                    "ack_pending": consumer.num_ack_pending or 0,
                    "redelivered": consumer.num_redelivered or 0,
                    "waiting": consumer.num_waiting or 0,
                    "last_active": _stamp(delivered.last_active if delivered else None),
                }
            )
    return streams, consumers


async def _buckets(js: JetStreamContext, streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    buckets = []
    for stream in streams:
        if not stream["name"].startswith(_KV_PREFIX):
            continue
        name = stream["name"].removeprefix(_KV_PREFIX)
        bucket = await js.key_value(name)
        status = await bucket.status()
        try:
            keys = len(await bucket.keys())
        except nats.js.errors.NoKeysError:
            keys = 0
        ttl = status.ttl
        buckets.append(
            {"name": name, "keys": keys, "history": status.history, "ttl_seconds": ttl, "values": status.values}
        )
    return buckets


async def _monitoring(monitor: str) -> dict[str, Any]:
    """``/varz``, ``/jsz`` and ``/connz`` (or the error that kept them away)."""
    async with httpx.AsyncClient(base_url=monitor, timeout=_MONITOR_TIMEOUT_SECONDS) as client:
        try:
            varz, jsz, connz = await asyncio.gather(
                client.get("/varz"), client.get("/jsz"), client.get("/connz", params={"limit": 1024})
            )
            for response in (varz, jsz, connz):
                response.raise_for_status()
        except httpx.HTTPError as exc:
            return {"error": f"monitoring endpoint {monitor} unavailable: {exc or type(exc).__name__}"}
    server, jetstream = varz.json(), jsz.json()
    connections = [
        {
            "name": conn.get("name", ""),
            "address": f"{conn.get('ip', '')}:{conn.get('port', '')}",
            "subscriptions": conn.get("subscriptions", 0),
            "in_msgs": conn.get("in_msgs", 0),
            "out_msgs": conn.get("out_msgs", 0),
            "pending_bytes": conn.get("pending_bytes", 0),
        }
        for conn in connz.json().get("connections") or []
    ]
    return {
        "server": {key: server.get(key) for key in ("server_name", "version", "uptime", "connections", "max_payload")},
        "jetstream": {
            key: jetstream.get(key) for key in ("streams", "consumers", "messages", "bytes", "memory", "storage")
        }
        | {"enabled": not jetstream.get("disabled", False)},
        "connections": sorted(connections, key=lambda conn: (conn["name"], conn["address"])),
    }


async def collect(url: str, monitor: str) -> dict[str, Any]:
    """Everything ``inspect`` reports, as plain data (what ``--json`` prints)."""
    report: dict[str, Any] = {"nats_url": url, "monitor_url": monitor}
    report |= await _monitoring(monitor)  # first: listing KV keys leaves short-lived consumers behind
    servers = [server.strip() for server in url.split(",") if server.strip()]
    connection = await nats.connect(servers, name="switchboard-inspect", max_reconnect_attempts=1)
    try:
        js = connection.jetstream()
        streams, consumers = await _streams(js)
        buckets = await _buckets(js, streams)
    finally:
        await connection.close()
    return report | {"streams": streams, "consumers": consumers, "kv_buckets": buckets}


def run_inspect(url: str, monitor: str, as_json: bool, out: TextIO = sys.stdout) -> int:
    try:
        report = asyncio.run(collect(url, monitor))
    except (OSError, nats.errors.Error) as exc:
        print(f"switchboard events inspect: cannot reach NATS at {url}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    out.write(json.dumps(report, indent=2) + "\n" if as_json else render_report(report))
    if "error" in report:
        print(f"switchboard events inspect: {report['error']}", file=sys.stderr)
    return 0
