"""``POST /v1/messages``, ``/v1/messages/stream`` and ``/v1/messages/count_tokens``: publish, then relay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from switchboard.api_gateway.auth import current_principal
from switchboard.api_gateway.byok.store import ByokStore
from switchboard.api_gateway.disconnect import ClientDisconnectedError, unless_disconnected
from switchboard.api_gateway.forwarding import forwardable_headers
from switchboard.api_gateway.http_errors import error_response
from switchboard.api_gateway.metrics import gateway_metrics
from switchboard.api_gateway.principal import PROXY_SCOPE, Principal, require_scope
from switchboard.api_gateway.ratelimit.limiter import RateDecision
from switchboard.api_gateway.relay import ProviderError, first_answer, passed_headers, sse_stream
from switchboard.api_gateway.reply_channel import ReplyChannel
from switchboard.api_gateway.request_body import parse_head, read_body
from switchboard.api_gateway.request_context import request_id_of
from switchboard.api_gateway.state import GatewayState, gateway_state
from switchboard.common.errors import InvalidRequestError, RateLimitedError, SwitchboardError
from switchboard.common.events import ByokCredential, Endpoint, ExecuteRequest, StreamFrame

__all__ = ["router"]

router = APIRouter()

_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
_CLIENT_CLOSED_REQUEST = 499  # nobody reads it: the client is gone; the access log shows why


@router.post("/v1/messages")
async def create_message(request: Request) -> Response:
    return await _serve(request, endpoint="messages", force_stream=False)


@router.post("/v1/messages/stream")
async def stream_message(request: Request) -> Response:
    return await _serve(request, endpoint="messages", force_stream=True)


@router.post("/v1/messages/count_tokens")
async def count_tokens(request: Request) -> Response:
    return await _serve(request, endpoint="count_tokens", force_stream=False)


async def _serve(request: Request, *, endpoint: Endpoint, force_stream: bool) -> Response:
    state = gateway_state(request)
    principal = await current_principal(request)
    require_scope(principal, PROXY_SCOPE)
    api_version = request.headers.get("anthropic-version")
    if not api_version:
        raise InvalidRequestError("anthropic-version: header is required")
    # count_tokens is free and rate-limited separately by Anthropic too. The limiter's round trip to NATS runs
    # while the body is read and parsed; its decision still comes first, as if it had been taken before.
    admission = _admission(state, principal) if endpoint == "messages" else None
    try:
        command: ExecuteRequest | SwitchboardError = await _command(
            request, state, principal, endpoint, api_version, force_stream
        )
    except SwitchboardError as exc:
        command = exc
    finally:
        decision = await admission if admission is not None else None
    limits = decision.headers() if decision is not None else {}
    if decision is not None and not decision.allowed:
        gateway_metrics().rate_limited.labels(principal.tier).inc()
        error = RateLimitedError(f"Rate limit exceeded for tier {principal.tier!r}: {decision.reason}.")
        return error_response(request, error, headers=limits)
    if isinstance(command, SwitchboardError):
        return error_response(request, command, headers=limits)
    request.state.model = command.model
    try:
        return await _relay(request, state, command, limits)
    except SwitchboardError as exc:  # the request counted, so its answer still tells the client its budget
        return error_response(request, exc, headers=limits)


def _admission(state: GatewayState, principal: Principal) -> asyncio.Task[RateDecision]:
    return asyncio.ensure_future(state.limiter.admit(principal.user_id, principal.tier))


async def _relay(request: Request, state: GatewayState, command: ExecuteRequest, limits: dict[str, str]) -> Response:
    channel = await state.bus.submit(command)
    try:
        frame = await unless_disconnected(request, _answer(channel, state))
    except ProviderError as exc:
        channel.close()
        headers = {**exc.headers, **limits}
        return Response(exc.body, status_code=exc.status, media_type="application/json", headers=headers)
    except Exception as exc:  # the client left, or we failed: either way nobody will read this answer
        channel.close()
        state.bus.cancel_soon(command.request_id, command.user_id)
        if isinstance(exc, ClientDisconnectedError):
            return Response(status_code=_CLIENT_CLOSED_REQUEST)
        raise
    if frame.kind == "body":
        channel.close()
        headers = {**passed_headers(frame), **limits}
        return Response(frame.data, frame.status or 200, headers, media_type="application/json")
    stream = _relay_stream(channel, state, command)
    headers = {**_SSE_HEADERS, **limits}
    return StreamingResponse(stream, media_type="text/event-stream; charset=utf-8", headers=headers)


async def _command(
    request: Request,
    state: GatewayState,
    principal: Principal,
    endpoint: Endpoint,
    api_version: str,
    force_stream: bool,
) -> ExecuteRequest:
    body = await read_body(request, state.settings.max_body_bytes)
    head = parse_head(body, require_max_tokens=endpoint == "messages")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise InvalidRequestError("Request body is not valid UTF-8.") from None
    if force_stream and head.stream is not True:
        text = _with_stream_enabled(text)
    request_id = request_id_of(request)
    return ExecuteRequest(
        request_id=request_id,
        user_id=principal.user_id,
        key_id=principal.key_id,
        endpoint=endpoint,
        model=head.model,
        stream=endpoint == "messages" and (force_stream or head.stream is True),
        api_version=api_version,
        headers=forwardable_headers(request.headers),
        query=request.url.query,
        body=text,
        reply_subject=state.bus.reply_subject(request_id),
        byok=await _byok(request, principal),
        billing_account=principal.billing_account,
        reply_protocol=2,
    )


async def _byok(request: Request, principal: Principal) -> dict[str, ByokCredential]:
    store: ByokStore | None = request.app.state.byok
    return await store.credentials(principal.user_id) if store is not None else {}


def _with_stream_enabled(text: str) -> str:
    body = json.loads(text)
    body["stream"] = True
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


async def _answer(channel: ReplyChannel, state: GatewayState) -> StreamFrame:
    return await first_answer(channel, state.relay, state.settings.accept_timeout)


async def _relay_stream(channel: ReplyChannel, state: GatewayState, command: ExecuteRequest) -> AsyncIterator[bytes]:
    finished = False
    try:
        async for chunk in sse_stream(channel, state.relay):
            yield chunk
        finished = True
    finally:
        channel.close()
        # Cut short (client gone, or the drain's grace period over): the orchestrator's work is for nobody now.
        if not finished or state.relay.drain.expired:
            state.bus.cancel_soon(command.request_id, command.user_id)
