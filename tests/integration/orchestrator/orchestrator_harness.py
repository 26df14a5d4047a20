"""A stand-in for the api-gateway on the bus (raw nats-py), and the routes the orchestrator tests run with."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.js.errors import NotFoundError

from switchboard.common.events import CompletionRecorded, Endpoint, ExecuteRequest, FrameKind, StreamFrame
from switchboard.common.ids import new_request_id
from switchboard.common.subjects import Subjects
from switchboard.orchestrator.app import OrchestratorApp

KEY_ENV = "ORCH_TEST_UPSTREAM_KEY"
ROUTES: dict[str, Any] = {
    "providers": {
        "anthropic": {"type": "anthropic", "api_key_env": KEY_ENV},
        "demo": {"type": "demo"},
        "unreachable": {"type": "anthropic", "base_url": "http://127.0.0.1:9", "api_key_env": KEY_ENV},
    },
    "model_mapping": {
        "claude-*": "anthropic",
        "alias-sonnet": "anthropic/claude-sonnet-4-5-20250929",
        "demo": "demo",
        "unreachable-*": "unreachable",
    },
}


def message_body(text: str, *, model: str = "claude-sonnet-4-5", stream: bool = False, **extra: Any) -> str:
    body = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}], **extra}
    if stream:
        body["stream"] = True
    return json.dumps(body)


@dataclass
class Reply:
    """The frames of one request as the gateway receives them."""

    request: ExecuteRequest
    subscription: Subscription
    frames: list[StreamFrame] = field(default_factory=list)

    async def next(self, timeout: float = 10.0) -> StreamFrame:
        message = await self.subscription.next_msg(timeout=timeout)
        frame = StreamFrame.model_validate_json(message.data)
        self.frames.append(frame)
        return frame

    async def until(self, kind: FrameKind, timeout: float = 10.0) -> StreamFrame:
        while (frame := await self.next(timeout)).kind != kind:
            assert frame.kind != "end", f"ended before {kind}: {self.kinds()}"
        return frame

    @property
    def closed(self) -> bool:
        """Whether the last frame ends the stream: ``end``, or under reply protocol 2 a final body or error."""
        if not self.frames:
            return False
        last = self.frames[-1]
        final = self.request.reply_protocol >= 2 and last.kind in ("body", "error") and not last.more
        return last.kind == "end" or final

    async def finish(self, timeout: float = 15.0) -> Reply:
        while not self.closed:
            await self.next(timeout)
        await self.subscription.unsubscribe()
        assert [frame.seq for frame in self.frames] == list(range(len(self.frames)))
        return self

    def kinds(self, *, heartbeats: bool = False) -> list[str]:
        return [f.kind for f in self.frames if heartbeats or f.kind != "heartbeat"]

    def data(self, kind: FrameKind) -> str:
        return "".join(frame.data for frame in self.frames if frame.kind == kind)

    def only(self, kind: FrameKind) -> StreamFrame:
        (frame,) = [frame for frame in self.frames if frame.kind == kind]
        return frame


@dataclass
class Gateway:
    """Plays the api-gateway's part on the bus."""

    connection: Client
    subjects: Subjects
    gateway_id: str = field(default_factory=lambda: f"gw{secrets.token_hex(3)}")

    def request(
        self,
        body: str,
        *,
        model: str = "claude-sonnet-4-5",
        stream: bool = False,
        endpoint: Endpoint = "messages",
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> ExecuteRequest:
        request_id = fields.pop("request_id", None) or new_request_id()
        return ExecuteRequest(
            request_id=request_id,
            user_id=fields.pop("user_id", "user-1"),
            model=model,
            stream=stream,
            endpoint=endpoint,
            api_version=fields.pop("api_version", "2023-06-01"),
            headers=headers or {},
            body=body,
            reply_subject=self.subjects.reply(self.gateway_id, request_id),
            **fields,
        )

    async def open(self, request: ExecuteRequest) -> Reply:
        subscription = await self.connection.subscribe(request.reply_subject)
        await self.connection.publish(self.subjects.execute_request, request.model_dump_json().encode())
        return Reply(request, subscription)

    async def call(self, request: ExecuteRequest, timeout: float = 15.0) -> Reply:
        return await (await self.open(request)).finish(timeout)

    async def cancel(self, request_id: str) -> None:
        await self.connection.publish(self.subjects.cancel_request(request_id), b"{}")

    async def completion(self, user_id: str, timeout: float = 5.0) -> tuple[CompletionRecorded, dict[str, str]]:
        """The last CompletionRecorded of ``user_id`` in the usage stream, with its headers (waits for it)."""
        jetstream = self.connection.jetstream()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                stored = await jetstream.get_last_msg(
                    self.subjects.usage_stream, self.subjects.completion_recorded(user_id)
                )
                return CompletionRecorded.model_validate_json(stored.data or b""), dict(stored.headers or {})
            except NotFoundError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)


async def poll_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.01) -> None:
    """Wait for a condition another thread makes true (the fake provider runs in its own thread)."""
    for _ in range(max(1, round(timeout / interval))):
        if condition():
            return
        await asyncio.sleep(interval)
    assert condition(), f"condition not met within {timeout} s"


Launch = Callable[..., Awaitable[OrchestratorApp]]
"""``await launch(routes=ROUTES, **env)``: start one more orchestrator replica on the test's prefix."""
