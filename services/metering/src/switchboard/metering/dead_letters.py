"""The dead-letter stream: completions Lago refused for good (and unreadable usage messages), kept for replay.

Nothing is acked away from the usage stream before its dead letter is stored here, so nothing disappears silently.
``replay_dead_letters`` is what ``switchboard metering replay`` runs once the cause is fixed.
"""

from __future__ import annotations

import logging

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from pydantic import ValidationError

from switchboard.common.events import CompletionRecorded
from switchboard.common.subjects import Subjects
from switchboard.common.usage_events import CompletionDeadLettered

__all__ = ["DeadLetters", "ensure_dead_letter_stream", "replay_dead_letters"]

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 5.0
REASON_HEADER = "Switchboard-Dead-Letter-Reason"
MALFORMED = "malformed"


async def ensure_dead_letter_stream(js: JetStreamContext, subjects: Subjects) -> None:
    """File storage and no max age: a dead letter stays until it is replayed."""
    config = StreamConfig(
        name=subjects.usage_dead_letter_stream,
        subjects=subjects.usage_dead_letter_stream_subjects,
        storage=StorageType.FILE,
    )
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        logger.warning("dead-letter stream %s kept its own configuration: %s", config.name, exc.description)


class DeadLetters:
    def __init__(self, js: JetStreamContext, subjects: Subjects) -> None:
        self._js = js
        self._subjects = subjects
        self.count = 0
        """Dead letters this process wrote (for its logs; ``MeteringStatus`` counts the stream)."""

    async def refused(
        self, completion: CompletionRecorded, reason: str, lago_status: int | None, usage_seq: int
    ) -> None:
        """Store ``CompletionDeadLettered``; raises if NATS did not confirm (the original then stays unacked)."""
        letter = CompletionDeadLettered(completion=completion, reason=reason, lago_status=lago_status)
        # The usage-stream sequence in the id: a redelivery dedupes, a replayed-then-refused-again one does not.
        msg_id = f"{completion.event_id}:dead:{usage_seq}"
        await self._publish(
            self._subjects.usage_dead_lettered(completion.user_id),
            letter.model_dump_json().encode(),
            {"Nats-Msg-Id": msg_id, REASON_HEADER: "refused"},
        )
        logger.error(
            "usage of request %s dead-lettered (Lago %s): %s", completion.request_id, lago_status, reason[:300]
        )

    async def malformed(self, data: bytes, subject: str, usage_seq: int, error: str) -> None:
        """Keep an unreadable usage message as it was, under the user token of its subject."""
        user_token = subject.rsplit(".", 1)[-1]
        headers = {"Nats-Msg-Id": f"malformed:{usage_seq}", REASON_HEADER: MALFORMED, "Switchboard-Subject": subject}
        await self._publish(self._subjects.usage_dead_lettered(user_token), data, headers)
        logger.error("malformed usage message %d on %s dead-lettered: %s", usage_seq, subject, error[:300])

    async def _publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        await self._js.publish(
            subject, payload, timeout=PUBLISH_TIMEOUT, stream=self._subjects.usage_dead_letter_stream, headers=headers
        )
        self.count += 1


async def replay_dead_letters(nc: Client, subjects: Subjects, *, limit: int | None = None) -> int:
    """Republish dead-lettered completions to the usage stream, oldest first; returns how many were replayed.

    Each is deleted from the dead-letter stream only after the usage stream confirmed the publish. Malformed
    messages (no completion to replay) are left where they are.
    """
    js = nc.jetstream()
    stream = subjects.usage_dead_letter_stream
    wildcard = subjects.usage_dead_letter_stream_subjects[0]
    replayed, seq = 0, 1
    while limit is None or replayed < limit:
        try:
            raw = await js.get_msg(stream, seq=seq, subject=wildcard, next=True)
        except NotFoundError:
            return replayed
        seq = (raw.seq or seq) + 1
        try:
            letter = CompletionDeadLettered.model_validate_json(raw.data or b"")
        except ValidationError:
            continue
        completion = letter.completion
        await js.publish(
            subjects.completion_recorded(completion.user_id),
            completion.model_dump_json().encode(),
            timeout=PUBLISH_TIMEOUT,
            stream=subjects.usage_stream,
            # A fresh id per dead letter: the original event_id may still be inside the duplicate window.
            headers={"Nats-Msg-Id": f"{completion.event_id}:replay:{raw.seq}"},
        )
        await js.delete_msg(stream, seq - 1)
        replayed += 1
    return replayed
