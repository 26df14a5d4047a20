"""ASGI middleware recording one audit entry per ``/v1/…`` and ``/api/…`` request.

Pure ASGI (not ``BaseHTTPMiddleware``) so streamed responses and disconnect detection pass through untouched.
Latency runs until the last body chunk is sent or the client disconnects, whichever comes first. The status is
the one sent; a request that ends before any response is 499 if the client left, else 500.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api_gateway.audit.recorder import AuditEntry, AuditRecorder
from switchboard.api_gateway.principal import Principal

__all__ = ["AUDITED_PREFIXES", "BODY_EXCERPT_BYTES", "AuditMiddleware"]

AUDITED_PREFIXES = ("/v1/", "/api/")
UNAUDITED_PATHS = frozenset({"/v1/health"})
"""Probes a load balancer sends every few seconds: not API calls, and they would drown the log."""
UNAUDITED_PREFIXES = ("/api/mcp/",)
"""Connector traffic forwarded to the tool-broker: the gateway never learns the caller, and long polls every few
seconds per connector would drown the log."""
BODY_EXCERPT_BYTES = 4096
PROMPT_PREFIX = "/v1/"
"""The only paths whose bodies may be kept (when the operator turned that on)."""
"""How much of a request body is kept when content logging is on."""

_CLIENT_CLOSED = 499  # nginx's "client closed request": no response was ever sent


class _Exchange:
    """What the middleware observes of one request while the app serves it."""

    def __init__(self, keep_body: bool) -> None:
        self.started = time.perf_counter()
        self.ended: float | None = None
        self.status: int | None = None
        self.disconnected = False
        self.body = bytearray() if keep_body else None

    def finish(self) -> None:
        if self.ended is None:
            self.ended = time.perf_counter()

    def latency_ms(self) -> float:
        return ((self.ended or time.perf_counter()) - self.started) * 1000

    def final_status(self) -> int:
        if self.status is not None:
            return self.status
        return _CLIENT_CLOSED if self.disconnected else 500

    def excerpt(self) -> str | None:
        return self.body.decode("utf-8", errors="replace") if self.body else None


class AuditMiddleware:
    def __init__(
        self, app: ASGIApp, recorder_getter: Callable[[], AuditRecorder | None], *, trust_forwarded: bool = False
    ) -> None:
        self.app = app
        self.recorder_getter = recorder_getter
        self.trust_forwarded = trust_forwarded
        """Take the client address from ``X-Forwarded-For``: only behind a proxy the operator controls."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        recorder = self.recorder_getter() if scope["type"] == "http" else None
        path = scope.get("path", "")  # lifespan scopes have none
        if (
            recorder is None
            or not path.startswith(AUDITED_PREFIXES)
            or path in UNAUDITED_PATHS
            or path.startswith(UNAUDITED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        occurred_at = datetime.now(UTC)
        # Prompts only: management bodies (/api/...) carry secrets such as BYOK provider keys.
        exchange = _Exchange(keep_body=recorder.store_bodies and scope["path"].startswith(PROMPT_PREFIX))

        async def watching_receive() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                exchange.disconnected = True
                exchange.finish()
            elif message["type"] == "http.request" and exchange.body is not None:
                room = BODY_EXCERPT_BYTES - len(exchange.body)
                exchange.body += message.get("body", b"")[: max(room, 0)]
            return message

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                exchange.finish()

        try:
            await self.app(scope, watching_receive, watching_send)
        finally:
            exchange.finish()
            recorder.record(self._entry(scope, occurred_at, exchange))

    def _entry(self, scope: Scope, occurred_at: datetime, exchange: _Exchange) -> AuditEntry:
        state = scope.get("state", {})
        principal = state.get("principal")
        model = state.get("model")
        return AuditEntry(
            occurred_at=occurred_at,
            request_id=str(state.get("request_id", "")),
            method=scope["method"],
            endpoint=scope["path"],
            status=exchange.final_status(),
            latency_ms=exchange.latency_ms(),
            user_id=principal.user_id if isinstance(principal, Principal) else None,
            key_id=principal.key_id if isinstance(principal, Principal) else None,
            model=model if isinstance(model, str) else None,
            client_address=self._client_address(scope),
            body_excerpt=exchange.excerpt(),
        )

    def _client_address(self, scope: Scope) -> str | None:
        if self.trust_forwarded:
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-for":
                    first: str = value.decode("latin-1").split(",")[0].strip()
                    if first:
                        return first
        client = scope.get("client")
        return str(client[0]) if client else None
