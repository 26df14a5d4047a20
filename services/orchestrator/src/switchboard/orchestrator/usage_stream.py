"""The usage stream on JetStream: its configuration, and one confirmed, deduplicated publish of an event.

The ``Nats-Msg-Id`` is the event id (derived from the request id), so a publish repeated within the duplicate
window (a retry whose first ack was lost, or a replay from the spool) is stored once.
"""

from __future__ import annotations

import json
import logging

from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError

from switchboard.common.subjects import Subjects
from switchboard.common.tracing import trace_headers

__all__ = ["DUPLICATE_WINDOW_SECONDS", "UsageStream"]

logger = logging.getLogger(__name__)

DUPLICATE_WINDOW_SECONDS = 600.0
"""Long enough for a spooled event to be replayed after a short outage and still be deduplicated against a
publish whose ack was lost."""
MAX_AGE_SECONDS = 7 * 24 * 3600.0
PUBLISH_TIMEOUT_SECONDS = 2.0


class UsageStream:
    def __init__(self, jetstream: JetStreamContext, subjects: Subjects) -> None:
        self._jetstream = jetstream
        self._subjects = subjects

    async def ensure(self) -> None:
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

    async def publish(self, payload: bytes) -> None:
        """Publish one ``CompletionRecorded`` (as JSON) and wait for JetStream's ack.

        A duplicate ack counts: the event is stored. Raises ``nats.errors.Error`` (no stream, timeout, closed
        connection, refused by the stream) and ``ValueError`` for a payload that is not a completion event.
        """
        event_id, user_id = _identity(payload)
        await self._jetstream.publish(
            self._subjects.completion_recorded(user_id),
            payload,
            timeout=PUBLISH_TIMEOUT_SECONDS,
            stream=self._subjects.usage_stream,
            headers={"Nats-Msg-Id": event_id, **trace_headers()},
        )


def _identity(payload: bytes) -> tuple[str, str]:
    """``(event_id, user_id)`` read without validating the whole event: a spool may hold an older schema."""
    document = json.loads(payload)
    event_id = document.get("event_id") if isinstance(document, dict) else None
    user_id = document.get("user_id") if isinstance(document, dict) else None
    if not isinstance(event_id, str) or not event_id or not isinstance(user_id, str):
        raise ValueError("not a CompletionRecorded event")
    return event_id, user_id
