"""The SSE splitter releases whole events only, byte-exact, whatever the chunking and line endings."""

from __future__ import annotations

import pytest

from switchboard.orchestrator.sse import SseSplitter, event_fields

EVENTS = [
    b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":3}}}\n\n',
    b'event: ping\ndata: {"type": "ping"}\n\n',
    (
        'event: content_block_delta\ndata: {"type":"content_block_delta",'
        '"delta":{"text":"h\u00e9llo \u2028 \U0001f600"}}\n\n'
    ).encode(),
    b": a comment line\n\n",
    b'event: future_event\ndata: {"type":"future_event"}\nid: 7\n\n',
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
]


def split_everywhere(stream: bytes, chunk_size: int) -> list[bytes]:
    splitter = SseSplitter()
    events: list[bytes] = []
    for start in range(0, len(stream), chunk_size):
        events += splitter.feed(stream[start : start + chunk_size])
    tail, rest = splitter.close()
    assert rest == b""
    return events + tail


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 10_000])
def test_events_survive_any_chunking_and_framing(line_end: bytes, chunk_size: int) -> None:
    events = [event.replace(b"\n", line_end) for event in EVENTS]
    assert split_everywhere(b"".join(events), chunk_size) == events


def test_every_single_cut_point() -> None:
    stream = b"".join(EVENTS)
    for cut in range(len(stream) + 1):
        splitter = SseSplitter()
        events = splitter.feed(stream[:cut]) + splitter.feed(stream[cut:])
        assert events == EVENTS, cut


def test_mixed_line_endings_inside_one_stream() -> None:
    stream = b"event: a\r\ndata: 1\r\n\nevent: b\ndata: 2\r\n\r\nevent: c\rdata: 3\r\r"
    assert split_everywhere(stream, 1) == [
        b"event: a\r\ndata: 1\r\n\n",
        b"event: b\ndata: 2\r\n\r\n",
        b"event: c\rdata: 3\r\r",
    ]


def test_a_lone_carriage_return_waits_for_the_next_byte() -> None:
    splitter = SseSplitter()
    assert splitter.feed(b"data: 1\r\n\r") == []  # could still become \r\n
    assert splitter.feed(b"\nnext") == [b"data: 1\r\n\r\n"]


def test_half_an_event_is_never_released() -> None:
    splitter = SseSplitter()
    assert splitter.feed(b'event: message_delta\ndata: {"type"') == []
    assert splitter.feed(b':"message_delta"}\n') == []
    events, rest = splitter.close()
    assert events == []
    assert rest == b'event: message_delta\ndata: {"type":"message_delta"}\n'


def test_close_completes_an_event_ended_by_a_final_carriage_return() -> None:
    splitter = SseSplitter()
    assert splitter.feed(b"data: x\r\r") == []
    assert splitter.close() == ([b"data: x\r\r"], b"")


def test_event_fields() -> None:
    assert event_fields(EVENTS[0]) == ("message_start", EVENTS[0].split(b"data: ")[1].strip().decode())
    assert event_fields(b"data:a\ndata: b\r\n\r\n") == (None, "a\nb")
    name, data = event_fields(EVENTS[2])
    assert name == "content_block_delta"
    assert "\u2028" in data  # not a line break in SSE
