"""The ``CompletionRecorded`` fact of every request, published to the usage stream exactly once per request.

The ``Nats-Msg-Id`` is derived from the request id, so a retried publish is dropped by JetStream's dedupe.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import nats.errors
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError

from switchboard.common.events import CompletionRecorded, ExecuteRequest
from switchboard.common.subjects import Subjects
from switchboard.orchestrator.agents.trace import AgentTrace
from switchboard.orchestrator.response_writer import ResponseWriter
from switchboard.orchestrator.routing import Target

__all__ = ["CompletionRecorder", "completion_event"]

logger = logging.getLogger(__name__)

DUPLICATE_WINDOW_SECONDS = 120.0
MAX_AGE_SECONDS = 7 * 24 * 3600.0
PUBLISH_ATTEMPTS = 4
PUBLISH_TIMEOUT_SECONDS = 2.0
RETRY_BACKOFF_SECONDS = 0.25


def completion_event(
    request: ExecuteRequest,
    served_by: Target | None,
    targets_tried: list[str],
    writer: ResponseWriter,
    started_at: datetime,
    latency_ms: float,
    *,
    byok: bool = False,
    agent: AgentTrace | None = None,
) -> CompletionRecorded:
    """The fact; for an agent, usage is what the client was told: the sum over every provider call."""
    usage, outcome = writer.usage, writer.outcome
    return CompletionRecorded(
        event_id=f"completion-{request.request_id}",
        request_id=request.request_id,
        user_id=request.user_id,
        key_id=request.key_id,
        endpoint=request.endpoint,
        requested_model=request.model,
        provider=served_by.provider if served_by else None,
        upstream_model=served_by.upstream_model if served_by else None,
        targets_tried=targets_tried,
        streamed=request.stream and request.endpoint == "messages",
        byok=byok,
        status=outcome.status,
        http_status=outcome.http_status,
        error_type=outcome.error_type,
        input_tokens=usage.tokens["input_tokens"],
        output_tokens=usage.tokens["output_tokens"],
        cache_creation_input_tokens=usage.tokens["cache_creation_input_tokens"],
        cache_read_input_tokens=usage.tokens["cache_read_input_tokens"],
        stop_reason=usage.stop_reason,
        tool_use_count=len(usage.tool_names),
        tool_names=usage.tool_names,
        started_at=started_at,
        latency_ms=latency_ms,
        time_to_first_token_ms=usage.time_to_first_token_ms,
        agent=agent.name if agent else None,
        agent_iterations=agent.iterations if agent else 0,
        mcp_tool_calls=list(agent.tool_calls) if agent else [],
    )


class CompletionRecorder:
    def __init__(self, jetstream: JetStreamContext, subjects: Subjects) -> None:
        self._jetstream = jetstream
        self._subjects = subjects

    async def ensure_stream(self) -> None:
        """Create the usage stream, or bring an existing one to our settings (keeping its other subjects)."""
        config = StreamConfig(
            name=self._subjects.usage_stream,
            subjects=self._subjects.usage_stream_subjects,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=MAX_AGE_SECONDS,
        )
        try:
            await self._jetstream.add_stream(config)
        except BadRequestError:
            existing = (await self._jetstream.stream_info(config.name or "")).config.subjects or []
            subjects = list(dict.fromkeys([*existing, *(config.subjects or [])]))
            try:
                await self._jetstream.update_stream(config.evolve(subjects=subjects))
            except BadRequestError as exc:
                # e.g. another service created it with other storage: usable as it is, so warn and go on.
                logger.warning("usage stream %s kept its own configuration: %s", config.name, exc.description)

    async def record(self, event: CompletionRecorded) -> None:
        """Publish with retries; a final failure is logged, never raised (the client already has its answer)."""
        payload = event.model_dump_json().encode()
        subject = self._subjects.completion_recorded(event.user_id)
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                await self._jetstream.publish(
                    subject,
                    payload,
                    timeout=PUBLISH_TIMEOUT_SECONDS,
                    stream=self._subjects.usage_stream,
                    headers={"Nats-Msg-Id": event.event_id},
                )
                return
            except nats.errors.Error as exc:
                if attempt == PUBLISH_ATTEMPTS:
                    # The payload has no secrets and is what an operator needs to replay the fact by hand.
                    logger.error("CompletionRecorded not published (%s): %s", type(exc).__name__, payload.decode())
                    return
                await asyncio.sleep(RETRY_BACKOFF_SECONDS * attempt)
