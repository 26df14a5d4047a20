"""A protocol-faithful fake of the Anthropic API: a real HTTP server on 127.0.0.1 for tests.

Speaks the wire format of /v1/messages (JSON and SSE), /v1/messages/count_tokens and /v1/models,
records every request, and notices client disconnects. Tests steer each reply with `[[fake:...]]`
directives in any string of the request body (parsing: `fakes.anthropic_directives`). Faults counted
in text deltas (K) never fire if the reply has fewer than K deltas; pair them with `words=N`.

    status=NNN          HTTP error NNN with Anthropic's error body (before any stream starts)
    status_times=N      ...only for the first N requests with the same content (then succeed)
    text=...            reply text (up to "]]")            words=N       reply "word1 ... wordN"
    delay=S             sleep S seconds before the response head
    word_delay=S        sleep S seconds between text deltas (streaming)
    stall_after=K,S     after K text deltas go silent for S seconds (pings only if ping_interval)
    unknown_event       a `future_event` SSE event right after message_start
    drop_after=K        after K text deltas close the TCP connection mid-body
    midstream_error=K   after K text deltas send an `error` event and end the stream
    usage={...}         merge into usage                    stop_sequence=XYZ   stop on "XYZ"
    thinking            a thinking block first              tool_use (last user message, needs tools)
    tool_input={...}    arguments of that tool_use (default {"location": "Paris"})
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs

from .anthropic_directives import DirectiveError, Directives, directive_text, parse_directives
from .anthropic_scripts import Drop, Pause, estimate_input_tokens, message_json, plan_reply, stream_steps
from .anthropic_wire import MODELS, error_body, model_page, new_id, sse_frame
from .loopback_server import Responder
from .recording_server import RecordedRequest, RecordingServer

__all__ = ["FakeAnthropic", "RecordedRequest"]

_SAMPLING_FIELDS = ("temperature", "top_p", "top_k")
_STRICT_VERSION = "2026-10-21"


class _HttpError(Exception):
    """Answer with an Anthropic error body instead of a reply."""

    def __init__(self, status: int, message: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class FakeAnthropic(RecordingServer):
    """The fake Anthropic API; use as a context manager or call `start()` and `stop()`."""

    def __init__(self, *, api_key: str = "sk-ant-fake-upstream", ping_interval: float | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.other_keys: set[str] = set()
        """More keys the fake accepts, e.g. a user's own key brought to the gateway (BYOK)."""
        self.ping_interval = ping_interval

    async def _serve(self, request: RecordedRequest, responder: Responder) -> None:
        request_id = new_id("req")
        try:
            await self._route(request, responder, request_id)
        except _HttpError as error:
            body = json.dumps(error_body(error.status, request_id, error.message)).encode()
            headers = {"content-type": "application/json", "request-id": request_id, **error.headers}
            responder.send(error.status, headers, body)

    async def _route(self, request: RecordedRequest, responder: Responder, request_id: str) -> None:
        route = (request.method, request.path.rstrip("/"))
        if route == ("POST", "/v1/messages"):
            self._check_headers(request)
            await self._messages(request, responder, request_id)
        elif route == ("POST", "/v1/messages/count_tokens"):
            self._check_headers(request)
            body, _ = await self._prepare(request)
            _require(body, "model", "messages")
            _send_json(responder, request_id, {"input_tokens": estimate_input_tokens(body)})
        elif route == ("GET", "/v1/models"):
            self._check_headers(request)
            _send_json(responder, request_id, _list_models(request.query))
        elif request.method == "GET" and request.path.startswith("/v1/models/"):
            self._check_headers(request)
            _send_json(responder, request_id, _get_model(request.path.removeprefix("/v1/models/")))
        else:
            raise _HttpError(404, "Not Found")

    def _check_headers(self, request: RecordedRequest) -> None:
        api_key, authorization = request.headers.get("x-api-key"), request.headers.get("authorization")
        if api_key is None and authorization is None:
            raise _HttpError(401, "x-api-key header is required")
        accepted = {self.api_key, *self.other_keys}
        if api_key not in accepted and authorization not in {f"Bearer {key}" for key in accepted}:
            raise _HttpError(401, "invalid x-api-key")
        if "anthropic-version" not in request.headers:
            raise _HttpError(400, "anthropic-version: header is required")

    async def _prepare(self, request: RecordedRequest) -> tuple[dict[str, Any], Directives]:
        """Parse body and directives, then apply the directives that precede any reply: delay, status."""
        body = request.json
        if not isinstance(body, dict):
            raise _HttpError(400, "Request body must be a JSON object")
        text = directive_text(body)
        try:
            directives = parse_directives(text, _last_user_text(body))
        except DirectiveError as exc:
            raise _HttpError(400, str(exc)) from exc
        await asyncio.sleep(directives.delay)
        if directives.status is not None and self._should_fail(text, directives.status_times):
            raise _status_error(directives.status, str(body.get("model", "")))
        return body, directives

    async def _messages(self, request: RecordedRequest, responder: Responder, request_id: str) -> None:
        body, directives = await self._prepare(request)
        _require(body, "model", "messages", "max_tokens")
        if request.headers["anthropic-version"] == _STRICT_VERSION:
            for field in _SAMPLING_FIELDS:
                if field in body:
                    raise _HttpError(400, f"{field}: Extra inputs are not permitted")
        reply = plan_reply(body, directives)
        if body.get("stream") is not True:
            _send_json(responder, request_id, message_json(reply))
            return
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "request-id": request_id,
        }
        responder.start_stream(200, headers)
        for step in stream_steps(reply, directives):
            if isinstance(step, Drop):
                responder.drop()
                return
            if isinstance(step, Pause):
                await self._pause(responder, step.seconds)
                continue
            responder.write_chunk(sse_frame(step.event, step.payload))
            await asyncio.sleep(0)  # let the loop flush and notice a vanished client
            if step.event == "error":
                break
        responder.end_stream()

    async def _pause(self, responder: Responder, seconds: float) -> None:
        """Stay silent for `seconds`, except for a ping every `ping_interval` if one was configured."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self.ping_interval is None or remaining <= self.ping_interval:
                await asyncio.sleep(remaining)
                return
            await asyncio.sleep(self.ping_interval)
            responder.write_chunk(sse_frame("ping", {"type": "ping"}))


def _send_json(responder: Responder, request_id: str, payload: dict[str, Any]) -> None:
    headers = {"content-type": "application/json", "request-id": request_id}
    responder.send(200, headers, json.dumps(payload).encode())


def _require(body: dict[str, Any], *fields: str) -> None:
    for field in fields:
        if field not in body:
            raise _HttpError(400, f"{field}: Field required")


def _status_error(status: int, model: str) -> _HttpError:
    if status == 404:
        return _HttpError(404, f"model: {model}")
    if status == 429:
        return _HttpError(429, headers={"retry-after": "1"})
    return _HttpError(status)


def _last_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    users = [message for message in messages if isinstance(message, dict) and message.get("role") == "user"]
    content = users[-1].get("content") if users else None
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = [block.get("text") for block in content if isinstance(block, dict) and block.get("type") == "text"]
    return "\n".join(text for text in texts if isinstance(text, str))


def _list_models(query: str) -> dict[str, Any]:
    params = {name: values[-1] for name, values in parse_qs(query).items()}
    try:
        limit = int(params.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise _HttpError(400, "limit: Input should be between 1 and 1000")
    page = model_page(limit, params.get("after_id"), params.get("before_id"))
    if page is None:
        raise _HttpError(400, "Invalid pagination cursor")
    return page


def _get_model(model_id: str) -> dict[str, Any]:
    for model in MODELS:
        if model["id"] == model_id:
            return model
    raise _HttpError(404, f"model: {model_id}")
