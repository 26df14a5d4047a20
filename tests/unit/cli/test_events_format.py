"""``switchboard events``: the JSON line of ``tail --json`` and where ``inspect`` finds the monitoring endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from nats.aio.client import Client
from nats.aio.msg import Msg

from switchboard.cli.__main__ import build_parser
from switchboard.cli.events.servers import DEFAULT_MONITOR_URL, MONITOR_URL_FILE, resolve_monitor_url
from switchboard.cli.events.tail import format_json

NOON = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _msg(data: bytes, headers: dict[str, str] | None = None) -> Msg:
    # Formatting never touches the client a message arrived on.
    return Msg(_client=cast(Client, None), subject="switchboard.llm.execute", reply="", data=data, headers=headers)


def test_json_line_carries_subject_headers_size_and_parsed_payload() -> None:
    line = format_json(_msg(b'{"a": [1]}', {"Nats-Msg-Id": "e1"}), now=NOON)
    assert line.endswith("\n") and "\n" not in line[:-1]
    assert json.loads(line) == {
        "time": "2026-01-01T12:00:00+00:00",
        "subject": "switchboard.llm.execute",
        "reply": None,
        "headers": {"Nats-Msg-Id": "e1"},
        "size": 10,
        "payload": {"a": [1]},
    }


def test_json_line_for_text_binary_and_empty_payloads() -> None:
    assert json.loads(format_json(_msg(b"plain"), now=NOON))["payload"] == "plain"
    binary = json.loads(format_json(_msg(b"\xff"), now=NOON))
    assert (binary["payload"], binary["size"]) == (None, 1)
    assert json.loads(format_json(_msg(b""), now=NOON))["size"] == 0


def test_monitor_discovery_order(tmp_path: Path) -> None:
    assert resolve_monitor_url(None, tmp_path) == DEFAULT_MONITOR_URL
    (tmp_path / MONITOR_URL_FILE).write_text("http://127.0.0.1:9999/\n")
    assert resolve_monitor_url(None, tmp_path) == "http://127.0.0.1:9999"
    assert resolve_monitor_url("http://flag:1", tmp_path) == "http://flag:1"


def test_tap_is_an_alias_with_the_tail_options() -> None:
    parser = build_parser()
    tap = parser.parse_args(["tap", "x.>", "--json", "--max-chars", "5", "--server", "nats://h:1"])
    tail = parser.parse_args(["events", "tail", "x.>", "--json", "--max-chars", "5", "--server", "nats://h:1"])
    assert (tap.subject, tap.json, tap.max_chars, tap.server) == (tail.subject, tail.json, tail.max_chars, tail.server)
    assert parser.parse_args(["events", "tail"]).subject is None
    inspect = parser.parse_args(["events", "inspect", "--json", "--monitor", "http://m:8222"])
    assert (inspect.json, inspect.monitor) == (True, "http://m:8222")
