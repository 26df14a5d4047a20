"""Builders of OpenAI ``chat.completion.chunk``s and a runner through ``StreamTranslator``, for stream tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from support.anthropic_stream_grammar import assert_valid_anthropic_stream
from switchboard.orchestrator.translation.anthropic_openai.signatures import ThinkingSigner
from switchboard.orchestrator.translation.anthropic_openai.stream import Event, StreamTranslator

SIGNER = ThinkingSigner(b"test-signing-key")
Chunk = dict[str, Any]


def chunk(finish: str | None = None, usage: dict[str, Any] | None = None, **delta: Any) -> Chunk:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m", "choices": [choice], "usage": usage}


def usage_chunk(**usage: Any) -> Chunk:
    """What ``stream_options.include_usage`` adds after the finish_reason chunk: no choices, only usage."""
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [], "usage": usage}


def fragment(index: int, arguments: str | None = None, call_id: str | None = None, name: str | None = None) -> Chunk:
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    entry: dict[str, Any] = {"index": index, "function": function}
    if call_id is not None:
        entry.update(id=call_id, type="function")
    return chunk(tool_calls=[entry])


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def translator(stop_sequences: Sequence[str] = (), input_estimate: int = 321) -> StreamTranslator:
    return StreamTranslator(
        requested_model="claude-alias", stop_sequences=stop_sequences, signer=SIGNER, input_estimate=input_estimate
    )


def run(chunks: Iterable[Chunk], **options: Any) -> tuple[list[Event], StreamTranslator]:
    stream = translator(**options)
    events = stream.start()
    for item in chunks:
        events += stream.feed(item)
    return events + stream.finish(), stream


def translate(chunks: Iterable[Chunk], **options: Any) -> dict[str, Any]:
    """The message the client ends with, after checking the stream strictly."""
    events, _ = run(chunks, **options)
    return assert_valid_anthropic_stream(events)


def blocks(message: dict[str, Any]) -> list[str]:
    return [block["type"] for block in message["content"]]


def tool_call_chunks(index: int, call_id: str, name: str, arguments: str, size: int) -> list[Chunk]:
    first = fragment(index, "", call_id, name)
    return [first, *(fragment(index, piece) for piece in pieces(arguments, size))]
