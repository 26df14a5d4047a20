"""Request bodies: inline in the ``ExecuteRequest``, or parked in the Object Store when too big for NATS."""

from __future__ import annotations

import logging

import nats.errors
from nats.js import JetStreamContext
from nats.js.object_store import ObjectStore

from switchboard.common.errors import ApiError
from switchboard.common.events import ExecuteRequest

__all__ = ["BodyStore"]

logger = logging.getLogger(__name__)


class BodyStore:
    def __init__(self, jetstream: JetStreamContext, bucket: str) -> None:
        self._jetstream = jetstream
        self._bucket = bucket
        self._store: ObjectStore | None = None

    async def load(self, request: ExecuteRequest) -> bytes:
        """The client's body bytes; a parked body is fetched once and then deleted (nobody needs it again)."""
        if request.body_object is None:
            return request.body.encode()
        try:
            store = await self._object_store()
            data = (await store.get(request.body_object)).data or b""
        except nats.errors.Error as exc:
            logger.error("request %s: body object unavailable: %s", request.request_id, type(exc).__name__)
            raise ApiError("the request body could not be retrieved; retry the request") from exc
        try:
            await store.delete(request.body_object)
        except nats.errors.Error as exc:
            logger.warning("request %s: body object not deleted: %s", request.request_id, type(exc).__name__)
        return data

    async def _object_store(self) -> ObjectStore:
        if self._store is None:
            self._store = await self._jetstream.object_store(self._bucket)
        return self._store
