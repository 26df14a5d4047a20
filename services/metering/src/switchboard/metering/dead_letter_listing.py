"""``QueryDeadLetters``: the newest dead letters, read straight from the dead-letter stream (nothing is consumed).

The stream can only be read forwards, so the listing walks it backwards in windows that double in size, reading
each window forwards with the server skipping other users' subjects, until it holds ``limit`` letters.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from switchboard.common.events import utc_now
from switchboard.common.subjects import Subjects
from switchboard.common.usage_events import CompletionDeadLettered, DeadLetter, DeadLettersListed, QueryDeadLetters
from switchboard.metering.dead_letters import MALFORMED

__all__ = ["DeadLetterListing"]

_FIRST_WINDOW = 64


class DeadLetterListing:
    def __init__(self, js: JetStreamContext, subjects: Subjects) -> None:
        self._js, self._subjects = js, subjects
        self._stream = subjects.usage_dead_letter_stream

    async def newest(self, query: QueryDeadLetters) -> DeadLettersListed:
        if query.user_id is None:
            subject, per_subject = self._subjects.usage_dead_letter_stream_subjects[0], None
        else:  # the stream's per-subject count of the user's one subject
            subject = per_subject = self._subjects.usage_dead_lettered(query.user_id)
        try:
            state = (await self._js.stream_info(self._stream, subjects_filter=per_subject)).state
        except NotFoundError:  # no replica has created it yet: nothing was dead-lettered
            return DeadLettersListed(total=0)
        total = state.messages if per_subject is None else sum((state.subjects or {}).values())
        wanted = min(query.limit, total)
        items: list[DeadLetter] = []
        high, window = state.last_seq, _FIRST_WINDOW
        while len(items) < wanted and high >= state.first_seq:
            low = max(state.first_seq, high - window + 1)
            items += reversed(await self._forwards(subject, low, high))
            high, window = low - 1, window * 2
        return DeadLettersListed(total=total, items=items[:wanted])

    async def _forwards(self, subject: str, low: int, high: int) -> list[DeadLetter]:
        """The letters on ``subject`` with sequences in [low, high], oldest first."""
        found: list[DeadLetter] = []
        seq = low
        while seq <= high:
            try:
                raw = await self._js.get_msg(self._stream, seq=seq, subject=subject, next=True)
            except NotFoundError:  # nothing on the subject from ``seq`` on
                break
            if raw.seq is None or raw.seq > high:
                break
            found.append(_letter(raw))
            seq = raw.seq + 1
        return found


def _letter(raw: RawStreamMsg) -> DeadLetter:
    sequence = raw.seq or 0
    try:
        letter = CompletionDeadLettered.model_validate_json(raw.data or b"")
    except ValidationError:  # a usage message that could not be read was kept as it came
        user_token = (raw.subject or "").rsplit(".", 1)[-1]
        occurred = raw.time or utc_now()
        return DeadLetter(
            sequence=sequence, request_id=None, user_id=user_token, model=None, reason=MALFORMED, occurred_at=occurred
        )
    completion = letter.completion
    return DeadLetter(
        sequence=sequence,
        request_id=completion.request_id,
        user_id=completion.user_id,
        model=completion.requested_model,
        reason=letter.reason,
        lago_status=letter.lago_status,
        occurred_at=letter.occurred_at,
    )
