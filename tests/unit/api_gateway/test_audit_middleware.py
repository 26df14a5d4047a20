"""The audit middleware on a tiny Starlette app: status, latency, who, client address, streaming, skipped paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api_gateway.audit.middleware import BODY_EXCERPT_BYTES, AuditMiddleware
from switchboard.api_gateway.audit.recorder import AuditEntry, AuditRecorder
from switchboard.api_gateway.principal import Principal
from switchboard.api_gateway.request_context import RequestIdMiddleware

CLIENT = ("203.0.113.7", 50000)
CHUNK_DELAY = 0.05


class CapturingRecorder(AuditRecorder):
    """Keeps entries in a list instead of a database (the engine is never connected)."""

    def __init__(self, *, store_bodies: bool) -> None:
        super().__init__(create_async_engine("sqlite+aiosqlite://"), store_bodies=store_bodies)
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


async def messages(request: Request) -> Response:
    await request.body()
    request.state.principal = Principal(user_id="alice", key_id="key_1", tier="free", via="api_key")
    request.state.model = "claude-test"
    return JSONResponse({"ok": True}, status_code=201)


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[str]:
        for n in range(3):
            await asyncio.sleep(CHUNK_DELAY)
            yield f"event: {n}\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")


async def boom(request: Request) -> Response:
    raise RuntimeError("boom")


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


def app_with(recorder: AuditRecorder | None, *, trust_forwarded: bool = False) -> Starlette:
    routes = [
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/v1/stream", stream),
        Route("/api/v1/boom", boom),
        Route("/health", health),
        Route("/v1x", health),
    ]
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(AuditMiddleware, recorder_getter=lambda: recorder, trust_forwarded=trust_forwarded),
    ]
    return Starlette(routes=routes, middleware=middleware)


def client_for(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=CLIENT, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


@pytest.fixture
async def recorder() -> AsyncIterator[CapturingRecorder]:
    capturing = CapturingRecorder(store_bodies=False)
    yield capturing
    await capturing.engine.dispose()


async def test_a_normal_response_is_recorded_with_who_what_and_how_long(recorder: CapturingRecorder) -> None:
    async with client_for(app_with(recorder)) as client:
        response = await client.post("/v1/messages?beta=true", json={"model": "claude-test"})
    assert response.status_code == 201
    [entry] = recorder.entries
    assert (entry.method, entry.endpoint, entry.status) == ("POST", "/v1/messages", 201)
    assert (entry.user_id, entry.key_id, entry.model) == ("alice", "key_1", "claude-test")
    assert entry.client_address == CLIENT[0]
    assert entry.request_id == response.headers["request-id"]
    assert entry.request_id.startswith("req_")
    assert entry.occurred_at.tzinfo is not None
    assert 0 < entry.latency_ms < 5000
    assert entry.body_excerpt is None


async def test_a_streamed_response_is_timed_to_its_last_chunk(recorder: CapturingRecorder) -> None:
    async with client_for(app_with(recorder)) as client:
        response = await client.get("/v1/stream")
    assert response.text == "event: 0\n\nevent: 1\n\nevent: 2\n\n"
    [entry] = recorder.entries
    assert (entry.status, entry.user_id, entry.model) == (200, None, None)
    assert entry.latency_ms >= 3 * CHUNK_DELAY * 1000 * 0.9


async def test_an_unhandled_error_is_recorded_as_500(recorder: CapturingRecorder) -> None:
    async with client_for(app_with(recorder)) as client:
        response = await client.get("/api/v1/boom")
    assert response.status_code == 500
    assert [entry.status for entry in recorder.entries] == [500]


async def test_other_paths_and_a_missing_recorder_are_ignored(recorder: CapturingRecorder) -> None:
    async with client_for(app_with(recorder)) as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/v1x")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
    assert recorder.entries == []
    async with client_for(app_with(None)) as client:
        assert (await client.post("/v1/messages", json={})).status_code == 201


@pytest.mark.parametrize(("trust", "expected"), [(False, CLIENT[0]), (True, "198.51.100.1")])
async def test_forwarded_for_is_used_only_when_trusted(recorder: CapturingRecorder, trust: bool, expected: str) -> None:
    async with client_for(app_with(recorder, trust_forwarded=trust)) as client:
        await client.get("/v1/stream", headers={"x-forwarded-for": "198.51.100.1, 10.0.0.1"})
    assert [entry.client_address for entry in recorder.entries] == [expected]


async def test_a_body_excerpt_is_taken_only_when_bodies_are_stored() -> None:
    recorder = CapturingRecorder(store_bodies=True)
    async with client_for(app_with(recorder)) as client:
        await client.post("/v1/messages", content=b'{"prompt": "' + b"x" * 10_000 + b'"}')
    await recorder.engine.dispose()
    [entry] = recorder.entries
    assert entry.body_excerpt is not None
    assert entry.body_excerpt.startswith('{"prompt": "xxx')
    assert len(entry.body_excerpt) == BODY_EXCERPT_BYTES


async def test_health_probes_are_not_audited(recorder: CapturingRecorder) -> None:
    async with client_for(app_with(recorder)) as client:
        await client.get("/v1/health")
    assert recorder.entries == []


async def test_management_bodies_are_never_kept_they_may_hold_provider_keys() -> None:
    recorder = CapturingRecorder(store_bodies=True)
    async with client_for(app_with(recorder)) as client:
        await client.put("/api/v1/byok/openai", content=b'{"api_key": "sk-users-own-provider-key"}')
    await recorder.engine.dispose()
    [entry] = recorder.entries
    assert entry.body_excerpt is None


async def run_asgi(app: ASGIApp, recorder: AuditRecorder, inbox: list[Message], sent: list[Message]) -> None:
    """Call the middleware directly with a scripted client; what it sends lands in ``sent``."""

    async def receive() -> Message:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/v1/messages", "headers": [], "client": None}
    await AuditMiddleware(app, lambda: recorder)(scope, receive, send)


async def test_streamed_chunks_pass_through_unbuffered(recorder: CapturingRecorder) -> None:
    sent: list[Message] = []
    seen_by_client_after_each_send: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(3):
            await send({"type": "http.response.body", "body": f"{n}".encode(), "more_body": n < 2})
            seen_by_client_after_each_send.append(len(sent))

    await run_asgi(app, recorder, [], sent)
    assert seen_by_client_after_each_send == [2, 3, 4]
    assert [m.get("body") for m in sent] == [None, b"0", b"1", b"2"]
    assert [entry.status for entry in recorder.entries] == [200]


async def test_a_client_that_leaves_before_any_response_is_recorded_as_499(recorder: CapturingRecorder) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        await asyncio.sleep(CHUNK_DELAY)  # cleanup after the client left does not count as latency

    sent: list[Message] = []
    await run_asgi(app, recorder, [{"type": "http.request", "body": b"{}", "more_body": False}], sent)
    [entry] = recorder.entries
    assert (entry.status, entry.client_address, entry.request_id, sent) == (499, None, "", [])
    assert entry.latency_ms < CHUNK_DELAY * 1000


async def test_lifespan_and_other_scopes_pass_straight_through(recorder: CapturingRecorder) -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    await AuditMiddleware(inner, lambda: recorder)({"type": "lifespan"}, receive, send)
    assert seen == ["lifespan"]
    assert recorder.entries == []
