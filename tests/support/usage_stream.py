"""Reads ``CompletionRecorded`` facts back from the JetStream usage stream."""

from __future__ import annotations

import asyncio
import time

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from switchboard.common.events import CompletionRecorded
from switchboard.common.subjects import Subjects

__all__ = ["recorded_completions"]


async def _read(nats_url: str, prefix: str, request_id: str, timeout: float) -> list[CompletionRecorded]:
    subjects = Subjects(prefix)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        deadline = time.monotonic() + timeout
        while True:
            found = await _scan(js, subjects, request_id)
            if found or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.1)
    finally:
        await nc.close()


async def _scan(js: nats.js.JetStreamContext, subjects: Subjects, request_id: str) -> list[CompletionRecorded]:
    config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    consumer = await js.pull_subscribe(subjects.completion_recorded_all, stream=subjects.usage_stream, config=config)
    found: list[CompletionRecorded] = []
    try:
        while True:
            try:
                batch = await consumer.fetch(256, timeout=0.5)
            except TimeoutError:  # nats-py raises its own or asyncio's, depending on the path
                return found
            for msg in batch:
                event = CompletionRecorded.model_validate_json(msg.data)
                if event.request_id == request_id:
                    assert msg.headers is not None and msg.headers.get("Nats-Msg-Id") == event.event_id
                    found.append(event)
    finally:
        await consumer.unsubscribe()


def recorded_completions(nats_url: str, prefix: str, request_id: str, timeout: float = 5.0) -> list[CompletionRecorded]:
    """Every completion event for ``request_id`` (waits up to ``timeout`` for the first)."""
    return asyncio.run(_read(nats_url, prefix, request_id, timeout))
