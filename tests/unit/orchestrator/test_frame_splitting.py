"""Frame data is cut so each piece's JSON encoding fits the NATS payload budget, and rejoins exactly."""

from __future__ import annotations

import json

import pytest

from switchboard.orchestrator.reply_stream import split_data

SAMPLES = [
    "plain ascii " * 500,
    'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"\\"q\\""}}\n\n' * 80,
    "h\u00e9llo w\u00f6rld \U0001f600 \u4e2d\u6587 " * 300,
    "\x00\x01\x1f" * 400,  # each escapes to six bytes
]


@pytest.mark.parametrize("data", SAMPLES)
@pytest.mark.parametrize("limit", [64, 1000, 4096])
def test_pieces_fit_and_rejoin(data: str, limit: int) -> None:
    pieces = split_data(data, limit)
    assert "".join(pieces) == data
    assert all(len(json.dumps(piece, ensure_ascii=False).encode()) <= limit for piece in pieces)
    assert len(pieces) > 1


def test_small_data_is_one_piece() -> None:
    assert split_data("", 100) == [""]
    assert split_data("short", 100) == ["short"]
