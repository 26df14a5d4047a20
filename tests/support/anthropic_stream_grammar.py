"""A strict checker of Anthropic streaming event sequences (reference §4.2 to §4.4), with the SDK as a second oracle.

Every stream a translator produces goes through :func:`assert_valid_anthropic_stream`: the grammar is checked
event by event, each event is parsed by our wire models, and the events are also fed to the official SDK's
accumulator, whose final message must equal the one reassembled here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from anthropic.lib.streaming._messages import accumulate_event
from jiter import from_json
from pydantic import TypeAdapter

from switchboard.common.anthropic.streaming import StreamEvent, UnknownEvent, format_sse

__all__ = ["assert_valid_anthropic_stream"]

_DELTA_FOR_BLOCK = {
    "text": {"text_delta"},
    "thinking": {"thinking_delta", "signature_delta"},
    "tool_use": {"input_json_delta"},
}
_EVENTS = TypeAdapter(StreamEvent)


class _Checker:
    def __init__(self) -> None:
        self.message: dict[str, Any] | None = None
        self.open: dict[str, Any] | None = None
        self.json_parts: list[str] = []
        self.arguments: dict[int, str] = {}  # tool block index → its concatenated partial_json
        self.signed = False
        self.after_message_delta = False
        self.finished = False

    def event(self, name: str, data: Mapping[str, Any]) -> None:
        assert not self.finished, f"{name} after the end of the stream"
        assert name == data.get("type"), f"event name {name!r} differs from data type {data.get('type')!r} (P25)"
        event_line, data_line, *_ = format_sse(dict(data)).decode().split("\n")
        assert event_line == f"event: {name}" and json.loads(data_line.removeprefix("data: ")) == data, data_line
        assert not isinstance(_EVENTS.validate_python(dict(data)), UnknownEvent), f"unknown event {name}"
        if name == "ping":
            return
        if name == "error":
            self.finished = True
            return
        assert self.message is not None or name == "message_start", f"{name} before message_start"
        getattr(self, "on_" + name)(data)

    def on_message_start(self, data: Mapping[str, Any]) -> None:
        assert self.message is None, "a second message_start (P7)"
        message = data["message"]
        assert message["id"].startswith("msg_") and message["type"] == "message" and message["role"] == "assistant"
        assert message["content"] == [] and message["stop_reason"] is None
        assert "stop_sequence" in message and message["stop_sequence"] is None
        assert message["usage"]["input_tokens"] > 0, "message_start.usage.input_tokens must be > 0 (P21)"
        self.message = {**message, "content": [], "usage": dict(message["usage"])}

    def on_content_block_start(self, data: Mapping[str, Any]) -> None:
        assert self.message is not None and not self.after_message_delta, "block after message_delta"
        assert self.open is None, f"block {data['index']} started while another is open (P5)"
        assert data["index"] == len(self.message["content"]), "indices must be 0, 1, 2, … in order (P4, P5)"
        block = dict(data["content_block"])
        expected_empty: dict[str, dict[str, Any]] = {
            "text": {"text": ""},
            "thinking": {"thinking": "", "signature": ""},
            "tool_use": {"input": {}},
        }
        assert block["type"] in expected_empty, block
        for key, value in expected_empty[block["type"]].items():
            assert block[key] == value, f"content_block_start carries {key}={block[key]!r} (P3)"
        if block["type"] == "tool_use":
            assert block["id"].startswith("toolu_") and block["name"], block
        self.message["content"].append(block)
        self.open, self.json_parts, self.signed = block, [], False

    def on_content_block_delta(self, data: Mapping[str, Any]) -> None:
        assert self.message is not None
        assert self.open is not None and data["index"] == len(self.message["content"]) - 1, "delta outside its block"
        delta, block = data["delta"], self.open
        assert delta["type"] in _DELTA_FOR_BLOCK[block["type"]], f"{delta['type']} in a {block['type']} block (P6)"
        assert not self.signed, "a delta after the signature_delta"
        if delta["type"] == "text_delta":
            block["text"] += delta["text"]
        elif delta["type"] == "thinking_delta":
            block["thinking"] += delta["thinking"]
        elif delta["type"] == "signature_delta":
            block["signature"], self.signed = delta["signature"], True
        else:
            self.json_parts.append(delta["partial_json"])

    def on_content_block_stop(self, data: Mapping[str, Any]) -> None:
        assert self.message is not None
        assert self.open is not None and data["index"] == len(self.message["content"]) - 1, "stop outside its block"
        block = self.open
        if block["type"] == "text":
            assert block["text"].strip(), "an empty or blank text block (P8)"
        elif block["type"] == "thinking":
            assert self.signed and block["signature"], "a thinking block needs one signature_delta before its stop"
        else:
            self.arguments[len(self.message["content"]) - 1] = "".join(self.json_parts)
        self.open = None

    def on_message_delta(self, data: Mapping[str, Any]) -> None:
        assert self.message is not None and self.open is None, "message_delta with a block still open"
        delta, usage = data["delta"], data["usage"]
        assert isinstance(delta["stop_reason"], str) and "stop_sequence" in delta, delta
        assert isinstance(usage["output_tokens"], int) and usage["output_tokens"] > 0, usage
        self.message.update(stop_reason=delta["stop_reason"], stop_sequence=delta["stop_sequence"])
        for index, arguments in self.arguments.items():
            self.message["content"][index]["input"] = _tool_input(
                arguments, truncated=delta["stop_reason"] == "max_tokens"
            )
        self.message["usage"].update(usage)  # cumulative: each field present replaces the running value
        self.after_message_delta = True

    def on_message_stop(self, data: Mapping[str, Any]) -> None:
        assert self.after_message_delta, "message_stop without message_delta"
        self.finished = True


def assert_valid_anthropic_stream(events: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Check ``events`` strictly and return the message they build (content so far if the stream ended in error).

    A stream ends either with ``message_stop`` or with one ``error`` event (no ``message_stop`` after it).
    """
    assert events, "an empty stream"
    checker = _Checker()
    for name, data in events:
        checker.event(name, data)
    last = events[-1][0]
    assert last in ("message_stop", "error"), f"the stream ends with {last}, not message_stop (P26)"
    assert checker.message is not None or last == "error", "no message_start"
    message = checker.message or {"content": []}
    if last == "message_stop":
        _compare_with_sdk(events, message)
    return message


def _tool_input(arguments: str, *, truncated: bool) -> dict[str, Any]:
    """The input the fragments make: a whole JSON object, or under ``max_tokens`` the prefix of one (§4.3)."""
    if not arguments:
        return {}
    value = from_json(arguments.encode(), partial_mode=True) if truncated else json.loads(arguments)
    assert isinstance(value, dict), f"tool input must be a JSON object: {arguments!r}"
    return value


def _compare_with_sdk(events: Sequence[tuple[str, Mapping[str, Any]]], message: dict[str, Any]) -> None:
    snapshot: Any = None
    json_bufs: dict[int, bytes] = {}
    for name, data in events:
        if name != "ping":
            snapshot = accumulate_event(event=dict(data), current_snapshot=snapshot, json_bufs=json_bufs)  # type: ignore[arg-type]
    final = snapshot.to_dict()
    assert final["content"] == message["content"], (final["content"], message["content"])
    for key in ("id", "model", "stop_reason", "stop_sequence"):
        assert final[key] == message[key], key
    assert {k: v for k, v in final["usage"].items() if v is not None} == message["usage"]
