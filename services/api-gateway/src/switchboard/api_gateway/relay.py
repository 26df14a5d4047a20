"""Turns an orchestrator's reply frames into the HTTP response Anthropic would have sent."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from switchboard.api_gateway.reply_channel import OrchestratorLostError, ReplyChannel
from switchboard.api_gateway.shutdown import Drain
from switchboard.common.errors import OverloadedError, SwitchboardError, error_body
from switchboard.common.events import StreamFrame

__all__ = ["GatewayDrainedError", "ProviderError", "RelaySettings", "first_answer", "sse_stream"]

PING_EVENT = b'event: ping\ndata: {"type": "ping"}\n\n'
_PASSED_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")
_DRAINED = "Switchboard is restarting and this request outlived the shutdown grace period; retry it."


@dataclass(frozen=True, slots=True)
class RelaySettings:
    idle_timeout: float
    ping_interval: float
    drain: Drain
    """On SIGTERM: when what is still waiting for frames must give up (with a retryable 529)."""


class GatewayDrainedError(OverloadedError):
    """The gateway is shutting down and the request outlived the grace period."""


class ProviderError(Exception):
    """The provider (or the orchestrator on its behalf) answered with an HTTP error before any stream."""

    def __init__(self, frame: StreamFrame, request_id: str) -> None:
        super().__init__(frame.status)
        self.status = frame.status or 500
        self.body = with_request_id(frame.data, request_id, self.status)
        self.headers = passed_headers(frame)


def passed_headers(frame: StreamFrame) -> dict[str, str]:
    return {name: frame.headers[name] for name in _PASSED_HEADERS if name in frame.headers}


def with_request_id(data: str, request_id: str, status: int) -> bytes:
    """The error body with ``request_id`` set to the gateway's id (the rest stays as the provider wrote it)."""
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("type") != "error":
        body = error_body("api_error", f"The provider answered with HTTP {status}.", request_id)
    body["request_id"] = request_id
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def first_answer(channel: ReplyChannel, settings: RelaySettings, accept_timeout: float) -> StreamFrame:
    """Wait (through ``accepted`` and heartbeats) for the frame that decides the HTTP status: head, body or error.

    The first frame must come within ``accept_timeout`` (else 529: no orchestrator took the request); under reply
    protocol 2 it may already be the answer.
    """
    frame = await channel.first_frame(accept_timeout)
    while True:
        if frame.kind == "error":
            raise ProviderError(frame, channel.request_id)
        if frame.kind in ("response_head", "body"):
            return frame
        if frame.kind == "end":
            raise OrchestratorLostError("The orchestrator ended the request without an answer.")
        frame = await _next(channel, settings)


async def _next(channel: ReplyChannel, settings: RelaySettings) -> StreamFrame:
    """The next frame, waiting at most the idle timeout, or less when a drain's grace period ends first."""
    left = settings.drain.time_left()
    if left is not None and left <= 0:
        raise GatewayDrainedError(_DRAINED)
    try:
        return await channel.next_frame(settings.idle_timeout if left is None else min(settings.idle_timeout, left))
    except TimeoutError:
        if left is not None and left < settings.idle_timeout:  # the grace period ran out first
            raise GatewayDrainedError(_DRAINED) from None
        raise OrchestratorLostError("The orchestrator serving this request stopped responding.") from None


async def sse_stream(channel: ReplyChannel, settings: RelaySettings) -> AsyncIterator[bytes]:
    """The SSE bytes after ``response_head``: upstream events verbatim, pings in long silences, errors."""
    last_write = time.monotonic()
    while True:
        try:
            frame = await _next(channel, settings)
        except SwitchboardError as exc:
            yield error_event(json.dumps(exc.body(channel.request_id)))
            return
        if frame.kind == "sse":
            yield frame.data.encode()
            last_write = time.monotonic()
        elif frame.kind == "error":
            yield error_event(with_request_id(frame.data, channel.request_id, frame.status or 500).decode())
            return
        elif frame.kind == "end":
            return
        if time.monotonic() - last_write >= settings.ping_interval:
            yield PING_EVENT
            last_write = time.monotonic()


def error_event(data: str) -> bytes:
    return f"event: error\ndata: {data}\n\n".encode()
