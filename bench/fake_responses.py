"""What the fake upstream answers: Anthropic Messages and OpenAI Chat Completions responses, as HTTP/1.1 bytes.

No I/O. Ids hold ``ID_SLOT``, which the server overwrites per request with an id of the same width, so each
response is built once per (endpoint, model, stream) and reused.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

__all__ = [
    "ID_SLOT",
    "INPUT_TOKENS",
    "Payload",
    "Responder",
    "Wire",
    "anthropic_message",
    "anthropic_stream",
    "count_tokens",
    "error",
    "error_response",
    "frame",
    "health",
    "model_list",
    "openai_completion",
    "openai_stream",
    "words",
]

ID_SLOT = "#" * 16
"""Stands for the per-request id; the server replaces it with 16 hex digits, so every length stays right."""
INPUT_TOKENS = 12
_VOCABULARY = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")
_SSE = "text/event-stream; charset=utf-8"
_TERMINATOR = b"0\r\n\r\n"
_ROUTES = {
    (b"POST", b"/v1/messages"): "messages",
    (b"POST", b"/v1/messages/count_tokens"): "count_tokens",
    (b"POST", b"/v1/chat/completions"): "chat",
    (b"GET", b"/v1/models"): "models",
    (b"GET", b"/health"): "health",
}
_CACHE_LIMIT = 4096
"""Responses are cached per model name, which clients choose: start over rather than grow without bound."""


@dataclass(frozen=True, slots=True)
class Payload:
    """A response before HTTP framing: one JSON (or text) body, or one part per SSE event."""

    status: int
    content_type: str
    parts: tuple[bytes, ...]
    streamed: bool = False
    first_delta: int = 0
    """Index in ``parts`` of the first content delta: the events a paced stream spaces out."""
    delta_count: int = 0


def words(count: int) -> list[str]:
    """The reply's words; a stream's deltas (``"lorem"``, ``" ipsum"``, …) join to exactly the non-streamed text."""
    return [_VOCABULARY[index % len(_VOCABULARY)] for index in range(count)]


def _deltas(count: int) -> list[str]:
    return [word if index == 0 else f" {word}" for index, word in enumerate(words(count))]


def _json(value: Any) -> bytes:
    # Compact on purpose: clients match on it (e.g. ``"delta":{"content"`` marks an OpenAI text delta).
    return json.dumps(value, separators=(",", ":")).encode()


def _body(value: Any, status: int = 200) -> Payload:
    return Payload(status, "application/json", (_json(value),))


def error(status: int, error_type: str, message: str) -> Payload:
    return _body({"type": "error", "error": {"type": error_type, "message": message}}, status)


def health() -> Payload:
    return Payload(200, "text/plain; charset=utf-8", (b"ok",))


def count_tokens() -> Payload:
    return _body({"input_tokens": INPUT_TOKENS})


def model_list() -> Payload:
    """Both dialects' fields in one list: Anthropic's ModelInfo and OpenAI's Model."""
    names = ("claude-bench", "gpt-bench")
    data = [
        {"id": name, "type": "model", "object": "model", "display_name": name, "created_at": "2025-01-01T00:00:00Z",
         "created": 1735689600, "owned_by": "bench"}
        for name in names
    ]  # fmt: skip
    return _body({"object": "list", "data": data, "has_more": False, "first_id": names[0], "last_id": names[-1]})


def _message(model: str, content: list[dict[str, str]], stop_reason: str | None, output_tokens: int) -> dict[str, Any]:
    return {"id": f"msg_bench_{ID_SLOT}", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": output_tokens}}  # fmt: skip


def anthropic_message(model: str, deltas: int) -> Payload:
    return _body(_message(model, [{"type": "text", "text": " ".join(words(deltas))}], "end_turn", deltas))


def _event(value: dict[str, Any]) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (value["type"].encode(), _json(value))


def anthropic_stream(model: str, deltas: int) -> Payload:
    """Anthropic's event sequence: message_start, content_block_start, ping, the deltas, and the four closers."""
    opening: list[dict[str, Any]] = [
        {"type": "message_start", "message": _message(model, [], None, 1)},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    delta = {"type": "content_block_delta", "index": 0}
    texts = [{**delta, "delta": {"type": "text_delta", "text": text}} for text in _deltas(deltas)]
    closing: list[dict[str, Any]] = [
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": deltas}},
        {"type": "message_stop"},
    ]  # fmt: skip
    parts = tuple(_event(event) for event in [*opening, *texts, *closing])
    return Payload(200, _SSE, parts, streamed=True, first_delta=len(opening), delta_count=deltas)


def _usage(deltas: int) -> dict[str, int]:
    return {"prompt_tokens": INPUT_TOKENS, "completion_tokens": deltas, "total_tokens": INPUT_TOKENS + deltas}


def openai_completion(model: str, deltas: int) -> Payload:
    choice = {"index": 0, "message": {"role": "assistant", "content": " ".join(words(deltas))},
              "finish_reason": "stop", "logprobs": None}  # fmt: skip
    return _body({"id": f"chatcmpl-bench{ID_SLOT}", "object": "chat.completion", "created": int(time.time()),
                  "model": model, "choices": [choice], "usage": _usage(deltas)})  # fmt: skip


def openai_stream(model: str, deltas: int, *, include_usage: bool) -> Payload:
    """Chat Completions chunks: the role, one per word, the finish, the usage if asked for, then ``[DONE]``."""
    head = {"id": f"chatcmpl-bench{ID_SLOT}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model}  # fmt: skip

    def chunk(delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": text}) for text in _deltas(deltas)]
    chunks.append(chunk({}, "stop"))
    if include_usage:
        chunks.append({**head, "choices": [], "usage": _usage(deltas)})
    parts = (*(b"data: %s\n\n" % _json(value) for value in chunks), b"data: [DONE]\n\n")
    return Payload(200, _SSE, parts, streamed=True, first_delta=1, delta_count=deltas)


@dataclass(frozen=True, slots=True)
class Wire:
    """One response as it goes on the wire, ``ID_SLOT`` still in it; index 0 keeps the connection, 1 closes it."""

    whole: tuple[bytes, bytes]
    heads: tuple[bytes, bytes]
    opening: bytes = b""
    deltas: tuple[bytes, ...] = ()
    closing: bytes = b""


def frame(payload: Payload, *, chunked: bool) -> Wire:
    """The HTTP/1.1 response; ``chunked=False`` (for HTTP/1.0) sends a stream unframed, ended by closing."""
    head = [f"HTTP/1.1 {payload.status} {HTTPStatus(payload.status).phrase}", f"content-type: {payload.content_type}"]
    if not payload.streamed:
        head.append(f"content-length: {len(payload.parts[0])}")
    else:
        head += ["cache-control: no-cache", *(["transfer-encoding: chunked"] if chunked else [])]
    head.append(f"request-id: req_bench{ID_SLOT}")
    keep, close = ("\r\n".join(head + extra).encode() + b"\r\n\r\n" for extra in ([], ["connection: close"]))
    if payload.streamed and not chunked:
        keep = close
    framed = payload.streamed and chunked
    parts = [b"%x\r\n%s\r\n" % (len(part), part) for part in payload.parts] if framed else list(payload.parts)
    start, end = payload.first_delta, payload.first_delta + payload.delta_count
    closing = b"".join(parts[end:]) + (_TERMINATOR if framed else b"")
    body = b"".join(parts[:end]) + closing
    return Wire((keep + body, close + body), (keep, close), b"".join(parts[:start]), tuple(parts[start:end]), closing)


def error_response(status: int, error_type: str, message: str) -> Wire:
    return frame(error(status, error_type, message), chunked=True)


class Responder:
    """Request in, response bytes out: routes, checks the JSON, and keeps each built response for reuse."""

    def __init__(self, deltas: int) -> None:
        self._deltas = deltas
        self._cache: dict[tuple[str, str, bool, bool, bool], Wire] = {}
        self._fixed = {"models": frame(model_list(), chunked=True), "health": frame(health(), chunked=True),
                       "count_tokens": frame(count_tokens(), chunked=True)}  # fmt: skip
        self._ids = itertools.count(1)
        self._id_prefix = b"%06x" % (os.getpid() & 0xFFFFFF)

    def next_id(self) -> bytes:
        """A fresh ``ID_SLOT`` filler: this process's pid, then a counter, in hex."""
        return self._id_prefix + b"%010x" % next(self._ids)

    def respond(self, method: bytes, url: bytes, body: bytes, *, chunked: bool) -> tuple[Wire, bool]:
        """The response to one request, and whether to pace it (a stream for a model named ``*paced*``)."""
        path = url.partition(b"?")[0]
        route = _ROUTES.get((method, path))
        if route is None:
            where = f"{method.decode()} {path.decode(errors='replace')}"
            return error_response(404, "not_found_error", f"no route for {where}"), False
        if route in ("models", "health"):
            return self._fixed[route], False
        try:
            request = json.loads(body)
        except (ValueError, RecursionError):
            return error_response(400, "invalid_request_error", "the request body is not valid JSON"), False
        if route == "count_tokens":
            return self._fixed[route], False
        model = request.get("model") if isinstance(request, dict) else None
        if not isinstance(model, str):
            return error_response(400, "invalid_request_error", "model: a string is required"), False
        stream = request.get("stream") is True
        usage = route == "chat" and stream and _include_usage(request)
        key = (route, model, stream, usage, chunked)
        wire = self._cache.get(key)
        if wire is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            wire = self._cache[key] = frame(self._build(route, model, stream=stream, usage=usage), chunked=chunked)
        return wire, stream and "paced" in model

    def _build(self, route: str, model: str, *, stream: bool, usage: bool) -> Payload:
        deltas = self._deltas
        if route == "messages":
            return anthropic_stream(model, deltas) if stream else anthropic_message(model, deltas)
        return openai_stream(model, deltas, include_usage=usage) if stream else openai_completion(model, deltas)


def _include_usage(request: dict[str, Any]) -> bool:
    options = request.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True
