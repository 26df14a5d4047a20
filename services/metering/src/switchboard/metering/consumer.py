"""The durable pull consumer of ``CompletionRecorded``: fetch a batch, write the ledger, bill Lago, then ack.

Every replica binds the same durable consumer, so JetStream hands each message to one replica at a time. A
message is acked only once its completion is in the ledger and billed (or safely dead-lettered); while Lago is
retried, ``in_progress`` keeps JetStream from redelivering the batch to another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError
from opentelemetry.trace import Link, SpanKind
from pydantic import ValidationError

from switchboard.common.events import CompletionRecorded, utc_now
from switchboard.common.logs import request_scope
from switchboard.common.subjects import Subjects
from switchboard.common.tracing import hex_ids, remote_span_context, tracer
from switchboard.metering.backoff import backoff_delay
from switchboard.metering.billing import Biller
from switchboard.metering.dead_letters import DeadLetters
from switchboard.metering.ledger import Ledger
from switchboard.metering.metrics import metering_metrics

__all__ = ["UsageConsumer"]

logger = logging.getLogger(__name__)

MAX_ACK_PENDING = 1000
WORKERS = 2
"""Batches in flight per replica: one is written and billed while the next is fetched."""


class UsageConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        subjects: Subjects,
        ledger: Ledger,
        biller: Biller | None,
        dead_letters: DeadLetters,
        *,
        batch_size: int,
        flush_interval: float,
        ack_wait: float,
    ) -> None:
        self._js, self._subjects, self._ledger = js, subjects, ledger
        self._biller, self._dead_letters = biller, dead_letters
        self._batch_size, self._flush_interval = batch_size, flush_interval
        self._ack_wait = ack_wait
        self.bound = False
        """Bound to the durable consumer: what ``/readyz`` waits for."""

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume until ``stopping`` is set; the batch in hand is finished first."""
        if not await self._bind(stopping):
            return
        async with asyncio.TaskGroup() as workers:  # one failing worker stops the others (and the process)
            for _ in range(WORKERS):
                workers.create_task(self._work(stopping))

    async def _bind(self, stopping: asyncio.Event) -> bool:
        # The orchestrators own the usage stream's configuration; until one has created it there is nothing to bill.
        stream = self._subjects.usage_stream
        while not stopping.is_set():
            try:
                await self._js.stream_info(stream)
                break
            except NotFoundError:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 1.0)
        else:
            return False
        config = ConsumerConfig(
            durable_name=self._subjects.usage_consumer,
            filter_subject=self._subjects.completion_recorded_all,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            max_ack_pending=MAX_ACK_PENDING,
            max_deliver=-1,  # a completion is never given up on; permanent failures go to the dead-letter stream
        )
        await self._js.add_consumer(stream, config)  # creates, or updates an existing durable's updatable fields
        self.bound = True
        logger.info("consuming %s as durable %s", stream, config.durable_name)
        return True

    async def _work(self, stopping: asyncio.Event) -> None:
        subscription = await self._js.pull_subscribe_bind(self._subjects.usage_consumer, self._subjects.usage_stream)
        try:
            while not stopping.is_set():
                batch = await self._collect(subscription, stopping)
                if batch:
                    await self._settle(batch)
        finally:
            with contextlib.suppress(nats.errors.Error):
                await subscription.unsubscribe()

    async def _collect(self, subscription: JetStreamContext.PullSubscription, stopping: asyncio.Event) -> list[Msg]:
        """Up to ``batch_size`` messages, waiting at most ``flush_interval`` after the first one arrived."""
        batch: list[Msg] = []
        deadline = time.monotonic() + self._flush_interval
        while len(batch) < self._batch_size and not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining < 0.01:
                if batch:
                    break
                deadline, remaining = time.monotonic() + self._flush_interval, self._flush_interval
            try:
                batch += await subscription.fetch(self._batch_size - len(batch), timeout=remaining)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either, depending on the path
                continue
            except nats.errors.ConnectionClosedError:
                raise
            except nats.errors.Error as exc:  # reconnecting: the pull request may be lost, so just ask again
                logger.warning("fetch failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(0.5)
        return batch

    async def _settle(self, batch: list[Msg]) -> None:
        keepalive = asyncio.create_task(_keep_in_progress(batch, self._ack_wait / 3))
        try:
            await self._bill(batch)
        except asyncio.CancelledError:
            await _nak_all(batch, None)  # shutting down mid-batch: hand it to another replica now
            raise
        except Exception:
            logger.exception("could not settle a batch of %d usage messages; they will be redelivered", len(batch))
            await _nak_all(batch, backoff_delay(3))
        finally:
            keepalive.cancel()

    async def _bill(self, batch: list[Msg]) -> None:
        # One span for the batch, linked to the span of each request it bills (OpenTelemetry's batch receive).
        links = [Link(context) for msg in batch if (context := remote_span_context(msg.headers)) is not None]
        with tracer().start_as_current_span("bill", kind=SpanKind.CONSUMER, links=links) as span:
            if span.is_recording():
                span.set_attribute("messaging.batch.message_count", len(batch))
            await self._bill_batch(batch)

    async def _bill_batch(self, batch: list[Msg]) -> None:
        readable: list[tuple[Msg, CompletionRecorded]] = []
        for msg in batch:
            try:
                readable.append((msg, CompletionRecorded.model_validate_json(msg.data)))
            except ValidationError as exc:
                await self._dead_letters.malformed(msg.data, msg.subject, msg.metadata.sequence.stream, str(exc))
                await msg.ack()
        completions = [completion for _, completion in readable]
        await self._ledger.record(completions)
        rejections = await self._biller.bill(completions) if self._biller else {}
        if self._biller:
            billed = [c for c in completions if c.request_id not in rejections]
            await self._ledger.mark_billed([c.request_id for c in billed])
            _observe_billed(billed)
        for msg, completion in readable:
            rejection = rejections.get(completion.request_id)
            _log_settled(completion, msg, rejection is None)
            if rejection is not None:
                with request_scope(completion.request_id):
                    await self._dead_letters.refused(
                        completion, rejection.reason, rejection.lago_status, msg.metadata.sequence.stream
                    )
            await msg.ack()


def _log_settled(completion: CompletionRecorded, msg: Msg, billed: bool) -> None:
    """A line per completion, in the request's own trace (the batch's span is only linked to it)."""
    if not logger.isEnabledFor(logging.DEBUG):
        return
    context = remote_span_context(msg.headers)
    ids = hex_ids(context) if context is not None else None
    trace = {"trace_id": ids[0], "span_id": ids[1]} if ids else {}
    outcome = "settled" if billed else "refused"
    logger.debug("completion %s %s", completion.event_id, outcome, extra={"request_id": completion.request_id, **trace})


def _observe_billed(billed: list[CompletionRecorded]) -> None:
    metrics = metering_metrics()
    metrics.billed.inc(len(billed))
    now = utc_now()
    for completion in billed:
        metrics.lag.observe(max((now - completion.occurred_at).total_seconds(), 0.0))


async def _keep_in_progress(batch: list[Msg], every: float) -> None:
    while True:
        await asyncio.sleep(every)
        for msg in batch:
            with contextlib.suppress(nats.errors.Error):
                await msg.in_progress()


async def _nak_all(batch: list[Msg], delay: float | None) -> None:
    for msg in batch:
        with contextlib.suppress(nats.errors.Error):
            await msg.nak(delay=delay)
