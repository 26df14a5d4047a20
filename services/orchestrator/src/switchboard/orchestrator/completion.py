"""The ``CompletionRecorded`` fact of every request, confirmed by the usage stream or spooled until it is.

A few quick retries ride on the request's task (after its ``end`` frame went out); when they fail too, the event
goes to the local spool, which the replica's drainer replays once the stream takes events again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import nats.errors

from switchboard.common.events import CompletionRecorded, ExecuteRequest
from switchboard.orchestrator.agents.trace import AgentTrace
from switchboard.orchestrator.response_writer import ResponseWriter
from switchboard.orchestrator.routing import Target
from switchboard.orchestrator.spool_drain import SpoolDrainer
from switchboard.orchestrator.usage_stream import UsageStream

__all__ = ["CompletionRecorder", "completion_event"]

logger = logging.getLogger(__name__)

PUBLISH_ATTEMPTS = 4
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
    request_body: bytes | None = None,
) -> CompletionRecorded:
    """The fact; for an agent, usage is what the client was told: the sum over every provider call.

    ``request_body`` lets a cut stream that never reported its input be billed an estimate of it.
    """
    usage, outcome = writer.usage, writer.outcome
    tokens = usage.billable_tokens(request_body)
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
        billing_account=request.billing_account,
        status=outcome.status,
        http_status=outcome.http_status,
        error_type=outcome.error_type,
        input_tokens=tokens["input_tokens"],
        output_tokens=tokens["output_tokens"],
        cache_creation_input_tokens=tokens["cache_creation_input_tokens"],
        cache_read_input_tokens=tokens["cache_read_input_tokens"],
        usage_estimated=usage.usage_estimated,
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
    def __init__(self, stream: UsageStream, drainer: SpoolDrainer) -> None:
        self._stream = stream
        self._drainer = drainer

    async def record(self, event: CompletionRecorded) -> None:
        """Publish with retries, else spool; never raises (the client already has its answer)."""
        payload = event.model_dump_json().encode()
        # During a known outage one try is enough: the drainer is already retrying, and the slot should free up.
        attempts = 1 if self._drainer.failing else PUBLISH_ATTEMPTS
        error: nats.errors.Error | None = None
        for attempt in range(1, attempts + 1):
            try:
                await self._stream.publish(payload)
            except nats.errors.Error as exc:
                error = exc
                if attempt < attempts:
                    await asyncio.sleep(RETRY_BACKOFF_SECONDS * attempt)
                continue
            self._drainer.publish_worked()
            return
        logger.warning("CompletionRecorded %s not published (%s)", event.event_id, type(error).__name__)
        try:
            await self._drainer.keep(event.event_id, payload)
        except OSError as exc:
            # The payload has no secrets and is what an operator needs to replay the fact by hand.
            logger.error("CompletionRecorded neither published nor spooled (%s): %s", exc, payload.decode())
