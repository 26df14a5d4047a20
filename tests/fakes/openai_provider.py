"""A protocol-faithful fake OpenAI-compatible Chat Completions server on 127.0.0.1 for tests.

Serves `POST [/v1]/chat/completions` (JSON and data-only SSE ending in `data: [DONE]`) and
`GET [/v1]/models`, records every request and notices client disconnects, like `FakeAnthropic`.
Tests steer each reply with `[[fake:...]]` directives in any string of the body (`fakes.openai_directives`).
Faults counted in K are counted in delta chunks (reasoning, content words, tool-call fragments).

    status=NNN          OpenAI error body with HTTP NNN (429 adds `retry-after: 2`)
    context_length      400 `context_length_exceeded` (alone or with `status=400`)
    status_times=N      ...only for the first N requests with the same content (then succeed)
    text=...            reply text (up to "]]")            words=N       reply "word1 ... wordN"
    delay=S             sleep S seconds before the response head
    word_delay=S        sleep S seconds between delta chunks
    stall_after=K,S     after K delta chunks go silent for S seconds
    drop_after=K        after K delta chunks close the TCP connection mid-body
    midstream_error=K   after K delta chunks send `data: {"error": ...}` and end (no [DONE])
    tool_calls=N        parallel calls to the first N request tools (last message, if a user one)
    tool_args={...}     arguments of every call (default {"location": "Paris", "i": <index>})
    split=awkward       argument fragments of 1-3 chars cut inside strings and escapes
    interleave          fragments of parallel calls interleaved      args_at_end   arguments in one last fragment
    no_tool_ids         calls without `id`                           reasoning     `reasoning_content` first
    finish=REASON       force finish_reason          vllm_stop=XYZ   finish "stop" with `stop_reason: "XYZ"`
    cached=N            `prompt_tokens_details.cached_tokens` N (prompt_tokens grows by N)
    require_reasoning_roundtrip   400 if an assistant message with tool_calls lacks `reasoning_content`
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from .loopback_server import Responder
from .openai_directives import DirectiveError, Directives, directive_text, last_user_text, parse_directives
from .openai_scripts import Done, Drop, Emit, Pause, completion_json, plan_reply, stream_steps
from .openai_validation import RequestInvalidError, validate_request
from .openai_wire import (
    DONE_FRAME,
    MODELS,
    REASONING_ROUNDTRIP_MESSAGE,
    error_body,
    new_id,
    sse_frame,
    status_error_body,
)
from .recording_server import RecordedRequest, RecordingServer

__all__ = ["FakeOpenAI", "RecordedRequest"]

_COMPLETIONS = ("/v1/chat/completions", "/chat/completions")
_MODELS = ("/v1/models", "/models")


class _HttpError(Exception):
    """Answer with an OpenAI error body instead of a reply."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body
        self.headers = headers or {}


class FakeOpenAI(RecordingServer):
    """The fake OpenAI-compatible server; use as a context manager or call `start()` and `stop()`.

    `strict` rejects top-level fields the Chat Completions API does not know, as OpenAI does.
    """

    def __init__(self, *, api_key: str = "sk-fake-openai", strict: bool = True) -> None:
        super().__init__()
        self.api_key = api_key
        self.other_keys: set[str] = set()
        """More keys the fake accepts, e.g. a user's own key brought to the gateway (BYOK)."""
        self.strict = strict

    async def _serve(self, request: RecordedRequest, responder: Responder) -> None:
        try:
            await self._route(request, responder)
        except _HttpError as error:
            headers = {"content-type": "application/json", **error.headers}
            responder.send(error.status, headers, json.dumps(error.body).encode())

    async def _route(self, request: RecordedRequest, responder: Responder) -> None:
        path = request.path.rstrip("/")
        if request.method == "POST" and path in _COMPLETIONS:
            self._check_auth(request)
            await self._completions(request, responder)
        elif request.method == "GET" and path in _MODELS:
            self._check_auth(request)
            _send_json(responder, {"object": "list", "data": list(MODELS)})
        elif request.method == "GET" and path.startswith(tuple(f"{prefix}/" for prefix in _MODELS)):
            self._check_auth(request)
            _send_json(responder, _get_model(path.rsplit("/", 1)[1]))
        else:
            message = f"Invalid URL ({request.method} {request.path})"
            raise _HttpError(404, error_body(message))

    def _check_auth(self, request: RecordedRequest) -> None:
        if request.headers.get("authorization") not in {f"Bearer {key}" for key in {self.api_key, *self.other_keys}}:
            raise _HttpError(401, error_body("Incorrect API key provided", code="invalid_api_key"))

    async def _prepare(self, request: RecordedRequest) -> tuple[dict[str, Any], Directives]:
        """Parse body and directives, then apply those that precede any reply: delay, status, validation."""
        body = request.json
        if not isinstance(body, dict):
            raise _HttpError(400, error_body("We could not parse the JSON body of your request."))
        text = directive_text(body)
        try:
            directives = parse_directives(text, last_user_text(body))
        except DirectiveError as exc:
            raise _HttpError(400, error_body(str(exc))) from exc
        await asyncio.sleep(directives.delay)
        status = directives.status or (400 if directives.context_length else None)
        if status is not None and self._should_fail(text, directives.status_times):
            headers = {"retry-after": "2"} if status == 429 else {}
            model = str(body.get("model", ""))
            raise _HttpError(
                status, status_error_body(status, model=model, context_length=directives.context_length), headers
            )
        try:
            validate_request(body, strict=self.strict)
        except RequestInvalidError as exc:
            raise _HttpError(400, error_body(exc.message, param=exc.param, code=exc.code)) from exc
        if directives.require_reasoning_roundtrip and _reasoning_dropped(body):
            raise _HttpError(400, error_body(REASONING_ROUNDTRIP_MESSAGE))
        return body, directives

    async def _completions(self, request: RecordedRequest, responder: Responder) -> None:
        body, directives = await self._prepare(request)
        try:
            reply = plan_reply(body, directives)
        except DirectiveError as exc:
            raise _HttpError(400, error_body(str(exc))) from exc
        if body.get("stream") is not True:
            _send_json(responder, completion_json(reply))
            return
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        headers = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
        responder.start_stream(200, {**headers, "x-request-id": new_id("req")})
        for step in stream_steps(reply, directives, include_usage=include_usage):
            if isinstance(step, Drop):
                responder.drop()
                return
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
                continue
            responder.write_chunk(DONE_FRAME if isinstance(step, Done) else sse_frame(step.payload))
            await asyncio.sleep(0)  # let the loop flush and notice a vanished client
            if isinstance(step, Emit) and step.final:
                break
        responder.end_stream()


def _send_json(responder: Responder, payload: dict[str, Any]) -> None:
    headers = {"content-type": "application/json", "x-request-id": new_id("req")}
    responder.send(200, headers, json.dumps(payload).encode())


def _get_model(model_id: str) -> dict[str, Any]:
    for model in MODELS:
        if model["id"] == model_id:
            return model
    message = f"The model '{model_id}' does not exist"
    raise _HttpError(404, error_body(message, param="model", code="model_not_found"))


def _reasoning_dropped(body: dict[str, Any]) -> bool:
    """DeepSeek thinking mode: every assistant turn with tool calls must carry its `reasoning_content` back."""
    return any(
        isinstance(message, dict)
        and message.get("role") == "assistant"
        and message.get("tool_calls")
        and not message.get("reasoning_content")
        for message in body["messages"]
    )
