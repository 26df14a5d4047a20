"""Formatting and server discovery of ``switchboard tap``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import cast

from nats.aio.client import Client
from nats.aio.msg import Msg

from switchboard.cli.tap import format_message, resolve_nats_url
from switchboard.cli.up import NATS_URL_FILE

NOON = datetime(2026, 1, 1, 12, 0, 0)


def _msg(data: bytes, headers: dict[str, str] | None = None, reply: str = "") -> Msg:
    subject = "switchboard.usage.completion_recorded.alice"
    # Formatting never touches the client a message arrived on.
    return Msg(_client=cast(Client, None), subject=subject, reply=reply, data=data, headers=headers)


def test_json_payloads_are_pretty_printed_with_headers() -> None:
    text = format_message(_msg(b'{"a":1}', {"Nats-Msg-Id": "e1"}, reply="_INBOX.x"), now=NOON)
    assert text.splitlines() == [
        "--- 12:00:00.000 switchboard.usage.completion_recorded.alice  (reply to _INBOX.x)",
        "Nats-Msg-Id: e1",
        "{",
        '  "a": 1',
        "}",
    ]


def test_long_binary_and_empty_payloads() -> None:
    assert "<3 bytes, not UTF-8>" in format_message(_msg(b"\xff\xfe\xfd"), now=NOON)
    assert "<empty payload>" in format_message(_msg(b""), now=NOON)
    cut = format_message(_msg(b"x" * 50), max_chars=10, now=NOON)
    assert "x" * 11 not in cut
    assert "40 more characters" in cut


def test_server_discovery_order(tmp_path: Path) -> None:
    default = "nats://127.0.0.1:4222"
    assert resolve_nats_url(None, None, tmp_path, default) == default
    (tmp_path / NATS_URL_FILE).write_text("nats://127.0.0.1:5555\n")
    assert resolve_nats_url(None, None, tmp_path, default) == "nats://127.0.0.1:5555"
    assert resolve_nats_url(None, "nats://env:1", tmp_path, default) == "nats://env:1"
    assert resolve_nats_url("nats://flag:2", "nats://env:1", tmp_path, default) == "nats://flag:2"
