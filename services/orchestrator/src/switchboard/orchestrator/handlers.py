"""The orchestrator's bus subscriptions: execute, cancel, ping and list_models.

Handlers return at once (work runs in the dispatcher's tasks), so one slow request never holds a subscription.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from faststream.nats.subscriber.usecases.core_subscriber import CoreSubscriber
from pydantic import ValidationError

from switchboard.common.events import ListModels, ModelsListed
from switchboard.common.subjects import ORCHESTRATOR_QUEUE, Subjects
from switchboard.orchestrator.dispatcher import Dispatcher

__all__ = ["SERVICE_NAME", "register_handlers"]

logger = logging.getLogger(__name__)

SERVICE_NAME = "orchestrator"


def register_handlers(
    broker: NatsBroker,
    subjects: Subjects,
    dispatcher: Dispatcher,
    instance_id: str,
    models: Callable[[ListModels], Awaitable[ModelsListed]],
) -> CoreSubscriber:
    """Subscribe everything; returns the execute subscription, which shutdown stops first."""
    # no_reply: FastStream must never answer on its own; replies go to ExecuteRequest.reply_subject.
    execute = broker.subscriber(subjects.execute_request, queue=ORCHESTRATOR_QUEUE, no_reply=True)

    @execute
    async def on_execute(message: NatsMessage) -> None:
        dispatcher.submit(message.body)

    # No queue group: the gateway does not know which replica runs the request, so every replica hears it.
    @broker.subscriber(subjects.cancel_request_all, no_reply=True)
    async def on_cancel(message: NatsMessage) -> None:
        dispatcher.cancel(message.raw_message.subject.rsplit(".", 1)[-1])

    @broker.subscriber(subjects.ping(SERVICE_NAME), queue=ORCHESTRATOR_QUEUE)
    async def on_ping(message: NatsMessage) -> dict[str, Any]:
        return {"instance": instance_id, "inflight": dispatcher.inflight}

    @broker.subscriber(subjects.list_models, queue=ORCHESTRATOR_QUEUE)
    async def on_list_models(message: NatsMessage) -> dict[str, Any]:
        return (await models(_list_models_request(message.body))).model_dump(mode="json")

    return execute


def _list_models_request(body: bytes) -> ListModels:
    """The request; an empty or ``{}`` payload (older gateways) or a malformed one asks for the shared list."""
    try:
        return ListModels.model_validate_json(body or b"{}")
    except ValidationError:
        logger.warning("list_models: ignored a malformed request payload")
        return ListModels()
