"""Render the report of ``switchboard events inspect`` as aligned plain-text tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["render_report"]


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    if not rows:
        return [f"{title}: none", ""]
    cells = [[str(value) if value is not None else "-" for value in row] for row in rows]
    widths = [max(len(column), *(len(row[index]) for row in cells)) for index, column in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()

    return [f"{title} ({len(rows)})", line(columns), *(line(row) for row in cells), ""]


def _server(report: dict[str, Any]) -> list[str]:
    lines = [f"NATS {report['nats_url']}, monitoring {report['monitor_url']}"]
    if "error" in report:
        return [*lines, f"  (no server details: {report['error']})", ""]
    server, jetstream = report["server"], report["jetstream"]
    lines.append(
        f"server {server['server_name']} version {server['version']}, up {server['uptime']}, "
        f"{server['connections']} connections"
    )
    state = "enabled" if jetstream["enabled"] else "DISABLED"
    lines.append(
        f"JetStream {state}: {jetstream['streams']} streams, {jetstream['consumers']} consumers, "
        f"{jetstream['messages']} messages, {jetstream['bytes']} bytes (memory {jetstream['memory']}, "
        f"file {jetstream['storage']})"
    )
    return [*lines, ""]


def render_report(report: dict[str, Any]) -> str:
    lines = _server(report)
    streams = [
        (s["name"], s["messages"], s["bytes"], s["first_seq"], s["last_seq"], s["consumers"], " ".join(s["subjects"]))
        for s in report["streams"]
    ]
    lines += _table("streams", ("STREAM", "MESSAGES", "BYTES", "FIRST", "LAST", "CONSUMERS", "SUBJECTS"), streams)
    consumers = [
        (c["stream"], c["name"], c["pending"], c["ack_pending"], c["redelivered"], c["last_active"])
        for c in report["consumers"]
    ]
    columns = ("STREAM", "CONSUMER", "PENDING", "ACK_PENDING", "REDELIVERED", "LAST_ACTIVE")
    lines += _table("consumers", columns, consumers)
    buckets = [(b["name"], b["keys"], b["history"], b["ttl_seconds"] or "none") for b in report["kv_buckets"]]
    lines += _table("kv buckets", ("BUCKET", "KEYS", "HISTORY", "TTL_SECONDS"), buckets)
    if "connections" in report:
        connections = [
            (c["name"] or "(unnamed)", c["address"], c["subscriptions"], c["in_msgs"], c["out_msgs"])
            for c in report["connections"]
        ]
        headings = ("NAME", "ADDRESS", "SUBSCRIPTIONS", "IN_MSGS", "OUT_MSGS")
        lines += _table("connections", headings, connections)
    return "\n".join(lines)
