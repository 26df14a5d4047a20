"""The offline demo provider: a scripted model that needs no network, for trying Switchboard out."""

from __future__ import annotations

import asyncio

from switchboard.orchestrator.providers.base import ModelInfo, ResponseSink, UpstreamCall
from switchboard.orchestrator.providers.demo_script import DEMO_MODEL, message_json, plan_reply, sse_events
from switchboard.orchestrator.providers.request_json import body_object
from switchboard.orchestrator.token_estimate import estimate_input_tokens
from switchboard.orchestrator.upstream_errors import dump_json

__all__ = ["DemoProvider"]

DELTA_PAUSE_SECONDS = 0.02
"""Pause between streamed events, so clients visibly receive a stream rather than one burst."""
_EPOCH = "1970-01-01T00:00:00Z"


class DemoProvider:
    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def send(self, call: UpstreamCall, sink: ResponseSink) -> None:
        body = body_object(call.body)
        if call.endpoint == "count_tokens":
            await sink.body(200, {}, dump_json({"input_tokens": estimate_input_tokens(body)}))
            return
        reply = plan_reply(body)
        if not call.stream:
            await sink.body(200, {}, message_json(reply))
            return
        await sink.start_stream({})
        for event in sse_events(reply):
            await sink.stream_bytes(event.encode())
            await asyncio.sleep(DELTA_PAUSE_SECONDS)
        await sink.finish_stream()

    async def list_models(self) -> list[ModelInfo]:
        return [
            {
                "id": DEMO_MODEL,
                "type": "model",
                "display_name": "Switchboard offline demo",
                "created_at": _EPOCH,
                "lifecycle": "active",
                "max_input_tokens": 200_000,
                "max_tokens": 8_192,
            }
        ]
