"""The orchestrator's bus subscriptions: execute, cancel, ping and list_models.

Handlers return at once (work runs in the dispatcher's tasks), so one slow request never holds a subscription.
Execute and cancel, on every request's path, are plain nats-py callbacks: FastStream's dependency injection ran
part of each message in a worker thread, a quarter of the replica's CPU per request in the bench's profiles.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from switchboard.common.events import ListModels, ModelsListed
from switchboard.common.subjects import ORCHESTRATOR_QUEUE, Subjects
from switchboard.orchestrator.dispatcher import Dispatcher

__all__ = ["SERVICE_NAME", "register_handlers", "subscribe_requests"]

logger = logging.getLogger(__name__)

SERVICE_NAME = "orchestrator"
_PENDING_LIMIT = 100_000
"""Requests buffered in the client before nats-py drops (and reports) slow-consumer messages."""


async def subscribe_requests(connection: Client, subjects: Subjects, dispatcher: Dispatcher) -> Subscription:
    """Execute (queue group) and cancel (every replica); returns the execute subscription, stopped first on shutdown."""

    async def on_execute(message: Msg) -> None:
        dispatcher.submit(message.data, message.headers)

    async def on_cancel(message: Msg) -> None:
        dispatcher.cancel(message.subject.rsplit(".", 1)[-1])

    # No queue group for cancel: the gateway does not know which replica runs the request, so every replica hears it.
    await connection.subscribe(subjects.cancel_request_all, cb=on_cancel)
    return await connection.subscribe(
        subjects.execute_request, queue=ORCHESTRATOR_QUEUE, cb=on_execute, pending_msgs_limit=_PENDING_LIMIT
    )


def register_handlers(
    broker: NatsBroker,
    subjects: Subjects,
    dispatcher: Dispatcher,
    instance_id: str,
    models: Callable[[ListModels], Awaitable[ModelsListed]],
) -> None:
    """The request/reply subscriptions, served through FastStream."""

    @broker.subscriber(subjects.ping(SERVICE_NAME), queue=ORCHESTRATOR_QUEUE)
    async def on_ping(message: NatsMessage) -> dict[str, Any]:
        return {"instance": instance_id, "inflight": dispatcher.inflight}

    @broker.subscriber(subjects.list_models, queue=ORCHESTRATOR_QUEUE)
    async def on_list_models(message: NatsMessage) -> dict[str, Any]:
        return (await models(_list_models_request(message.body))).model_dump(mode="json")


def _list_models_request(body: bytes) -> ListModels:
    """The request; an empty or ``{}`` payload (older gateways) or a malformed one asks for the shared list."""
    try:
        return ListModels.model_validate_json(body or b"{}")
    except ValidationError:
        logger.warning("list_models: ignored a malformed request payload")
        return ListModels()
