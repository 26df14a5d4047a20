"""Calls for polling connectors: queued in JetStream, and tracked in ``tool_pending_bucket`` until answered.

The pending entry is the truth about a call: a poll hands a call out only by claiming its entry
(compare-and-set), and a submit settles it by deleting the entry at the revision it read, so a call is given to
one poller and answered once; an unknown, answered, expired or foreign call id finds nothing to settle.
"""

from __future__ import annotations

import contextlib
import logging

import nats.js.errors
from nats.errors import Error as NatsError
from pydantic import BaseModel, ConfigDict, ValidationError

from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.calls import is_expired
from switchboard.tool_broker.kv_keys import call_key
from switchboard.tool_broker.stores import Stores

__all__ = ["PendingCall", "PollQueue"]

logger = logging.getLogger(__name__)

_PUBLISH_TIMEOUT = 5.0
_WRONG_LAST_SEQUENCE = (10071, 10164)


class PendingCall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    call: ExecuteToolCall
    """With ``reply_subject`` filled in: where the result goes."""
    claimed_by: str | None = None
    """The poller that was handed the call."""


class PollQueue:
    def __init__(self, stores: Stores, subjects: Subjects) -> None:
        self._stores = stores
        self._subjects = subjects

    async def enqueue(self, call: ExecuteToolCall) -> bool:
        """Record and queue ``call`` for the server's pollers; ``False`` if JetStream refused it."""
        key = call_key(call.call_id)
        try:
            revision = await self._stores.pending.put(key, PendingCall(call=call).model_dump_json().encode())
        except (NatsError, TimeoutError):
            logger.exception("could not record call %s for a poller", call.call_id)
            return False
        try:
            await self._stores.js.publish(
                self._subjects.tool_queue(call.user_id, call.server_id),
                call.model_dump_json().encode(),
                timeout=_PUBLISH_TIMEOUT,
                headers={"Nats-Msg-Id": f"{call.call_id}:{call.attempt}"},
            )
        except (NatsError, TimeoutError):
            logger.exception("could not queue call %s for a poller", call.call_id)
            with contextlib.suppress(NatsError, TimeoutError):
                await self._delete(call.call_id, revision)
            return False
        return True

    async def claim(self, call_id: str, user_id: str, poller_id: str) -> ExecuteToolCall | None:
        """The call, if it still waits for a poller of ``user_id``; it is then ``poller_id``'s alone."""
        found = await self._read(call_id, user_id)
        if found is None:
            return None
        pending, revision = found
        if pending.claimed_by is not None:
            return None
        if is_expired(pending.call):
            await self._delete(call_id, revision)
            return None
        claimed = pending.model_copy(update={"claimed_by": poller_id})
        try:
            await self._stores.pending.update(call_key(call_id), claimed.model_dump_json().encode(), last=revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            return None
        return pending.call

    async def settle(self, call_id: str, user_id: str, *, allow_expired: bool = False) -> PendingCall | None:
        """Take the call out of the pending set for its result; ``None`` when there is nothing to answer."""
        found = await self._read(call_id, user_id)
        if found is None:
            return None
        pending, revision = found
        if not await self._delete(call_id, revision):
            return None
        return pending if allow_expired or not is_expired(pending.call) else None

    async def _read(self, call_id: str, user_id: str) -> tuple[PendingCall, int] | None:
        try:
            entry = await self._stores.pending.get(call_key(call_id))
            pending = PendingCall.model_validate_json(entry.value or b"")
        except (nats.js.errors.KeyNotFoundError, ValidationError):
            return None
        # Another user's call id is answered exactly like an unknown one.
        if pending.call.user_id != user_id or pending.call.call_id != call_id:
            return None
        return pending, entry.revision or 0

    async def _delete(self, call_id: str, revision: int) -> bool:
        try:
            await self._stores.pending.delete(call_key(call_id), last=revision)
        except nats.js.errors.APIError as exc:
            if exc.err_code in _WRONG_LAST_SEQUENCE:
                return False  # someone settled or claimed it first
            raise
        return True
