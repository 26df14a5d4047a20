"""Bills a batch of completions to Lago: splits Lago's all-or-nothing answers and retries until each is settled.

A completion ends either billed (Lago stored or already had every one of its events) or rejected for good;
transient failures are retried forever with full-jitter backoff, because dropping usage is never acceptable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from switchboard.common.events import CompletionRecorded
from switchboard.metering.backoff import backoff_delay
from switchboard.metering.lago_client import LagoClient
from switchboard.metering.lago_events import EventMapper
from switchboard.metering.metrics import failure_reason, metering_metrics

__all__ = ["Biller", "Rejection"]

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Rejection:
    """Why Lago refused a completion for good (what the dead letter records)."""

    reason: str
    lago_status: int | None


class Biller:
    def __init__(self, client: LagoClient, mapper: EventMapper, batch_size: int, sleep: Sleep = asyncio.sleep) -> None:
        self._client = client
        self._mapper = mapper
        self._batch_size = batch_size
        self._sleep = sleep

    async def bill(self, completions: list[CompletionRecorded]) -> dict[str, Rejection]:
        """Rejections by request id; every other completion is billed once this returns."""
        # The same request twice in one batch (a replay next to a redelivery) would be a duplicate *within* the
        # batch, which Lago refuses as a whole.
        unique = {c.request_id: c for c in completions}.values()
        events = [(c.request_id, event) for c in unique for event in self._mapper.events(c)]
        rejections: dict[str, Rejection] = {}
        for start in range(0, len(events), self._batch_size):
            await self._settle(events[start : start + self._batch_size], rejections)
        return rejections

    async def _settle(self, pending: list[tuple[str, dict[str, Any]]], rejections: dict[str, Rejection]) -> None:
        attempt = 0
        while pending:
            answer = await self._client.send_batch([event for _, event in pending])
            if answer.accepted:
                return
            if answer.failed:
                metering_metrics().failures.labels(failure_reason(answer.status, answer.network_failure)).inc()
            if answer.retry:
                delay = answer.wait_hint if answer.wait_hint is not None else backoff_delay(attempt)
                logger.warning("Lago answered %s; retrying %d events in %.2f s", answer.status, len(pending), delay)
                await self._sleep(delay)
                attempt += 1
                continue
            if answer.reject_all is not None:
                for request_id, _ in pending:
                    rejections.setdefault(request_id, Rejection(answer.reject_all, answer.status))
                return
            # A batch 422 stored nothing: drop the duplicates (already billed) and the refused, resend the rest.
            for index, reason in answer.rejected.items():
                rejections.setdefault(pending[index][0], Rejection(reason, answer.status))
            settled = answer.duplicates | answer.rejected.keys()
            pending = [item for index, item in enumerate(pending) if index not in settled]
            attempt = 0
