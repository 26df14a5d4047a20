"""Request/reply subjects every metering replica answers (queue group ``metering``): ping, usage, status, dead
letters."""

from __future__ import annotations

import json
import logging

from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import ValidationError

from switchboard.common.subjects import METERING_QUEUE, Subjects
from switchboard.common.usage_events import QueryDeadLetters, QueryUsage
from switchboard.metering.dead_letter_listing import DeadLetterListing
from switchboard.metering.ledger import Ledger
from switchboard.metering.status import StatusReporter

__all__ = ["SERVICE_NAME", "subscribe_ping", "subscribe_queries"]

logger = logging.getLogger(__name__)

SERVICE_NAME = "metering"


async def subscribe_ping(nc: Client, subjects: Subjects, instance: str) -> None:
    answer = json.dumps({"instance": instance}).encode()

    async def ping(msg: Msg) -> None:
        await msg.respond(answer)

    await nc.subscribe(subjects.ping(SERVICE_NAME), queue=METERING_QUEUE, cb=ping)


async def subscribe_queries(nc: Client, subjects: Subjects, ledger: Ledger, status: StatusReporter) -> None:
    async def query_usage(msg: Msg) -> None:
        try:
            query = QueryUsage.model_validate_json(msg.data)
        except ValidationError as exc:
            await msg.respond(json.dumps({"error": f"invalid QueryUsage: {exc.error_count()} errors"}).encode())
            return
        try:
            report = await ledger.report(query)
        except Exception:  # the asker gets an answer rather than a timeout; the cause goes to our log
            logger.exception("usage query failed")
            await msg.respond(json.dumps({"error": "usage ledger unavailable"}).encode())
            return
        await msg.respond(report.model_dump_json().encode())

    async def metering_status(msg: Msg) -> None:
        try:
            answer = (await status.status()).model_dump_json().encode()
        except Exception:
            logger.exception("status query failed")
            answer = json.dumps({"error": "status unavailable"}).encode()
        await msg.respond(answer)

    listing = DeadLetterListing(nc.jetstream(), subjects)

    async def query_dead_letters(msg: Msg) -> None:
        try:
            query = QueryDeadLetters.model_validate_json(msg.data)
        except ValidationError as exc:
            await msg.respond(json.dumps({"error": f"invalid QueryDeadLetters: {exc.error_count()} errors"}).encode())
            return
        try:
            answer = (await listing.newest(query)).model_dump_json().encode()
        except Exception:
            logger.exception("dead-letter query failed")
            answer = json.dumps({"error": "dead letters unavailable"}).encode()
        await msg.respond(answer)

    await nc.subscribe(subjects.query_usage, queue=METERING_QUEUE, cb=query_usage)
    await nc.subscribe(subjects.metering_status, queue=METERING_QUEUE, cb=metering_status)
    await nc.subscribe(subjects.query_dead_letters, queue=METERING_QUEUE, cb=query_dead_letters)
