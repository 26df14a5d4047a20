"""The ordered stream of ``StreamFrame``s for one request: contiguous ``seq``, size-split data, heartbeats.

Every frame goes out on one NATS connection under one lock, which is what keeps them in order on the wire.
``accept()`` and ``end()`` follow the request's reply protocol: under protocol 2 the first frame of any kind
stands for ``accepted`` and a final ``body`` or ``error`` for ``end``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping

from nats.aio.client import Client

from switchboard.common.events import ACCEPT_WINDOW_SECONDS, ExecuteRequest, FrameKind, StreamFrame

__all__ = ["FRAME_HEADROOM_BYTES", "ReplyStream", "split_data"]

logger = logging.getLogger(__name__)

FRAME_HEADROOM_BYTES = 64 * 1024
"""Room left in a NATS message for the frame envelope around ``data``."""
_MIN_DATA_BYTES = 1024
_FINAL_KINDS: frozenset[FrameKind] = frozenset({"body", "error"})
_WORST_CASE_ESCAPE = 6
"""Most bytes one character can take in JSON: a control character becomes ``\\u00XX``."""


def _encoded_size(text: str) -> int:
    """Bytes ``text`` takes inside a JSON document (quotes, newlines and control characters are escaped)."""
    return len(json.dumps(text, ensure_ascii=False).encode())


def split_data(data: str, limit: int) -> list[str]:
    """Cut ``data`` into consecutive pieces whose JSON encoding fits ``limit`` bytes (always >= 1 piece)."""
    if len(data) * _WORST_CASE_ESCAPE <= limit:
        return [data]  # the common case, decided without encoding anything
    size = _encoded_size(data)
    if size <= limit or len(data) <= 1:
        return [data]
    # Aim at the right piece count first, then halve any piece that still does not fit.
    count = -(-size // limit)
    step = -(-len(data) // count)
    if count == 1 or step >= len(data):
        step = len(data) // 2
    pieces: list[str] = []
    for start in range(0, len(data), step):
        pieces.extend(split_data(data[start : start + step], limit))
    return pieces


class ReplyStream:
    def __init__(self, connection: Client, request: ExecuteRequest, heartbeat_interval: float) -> None:
        self._connection = connection
        self._request = request
        self._interval = heartbeat_interval
        self._seq = 0
        self._lock = asyncio.Lock()
        self._last_sent = time.monotonic()
        self._last_kind: FrameKind | None = None
        self._compact = request.reply_protocol >= 2

    @property
    def max_data_bytes(self) -> int:
        # Read per call: after a reconnect the server's max_payload may differ.
        return max(self._connection.max_payload - FRAME_HEADROOM_BYTES, _MIN_DATA_BYTES)

    @property
    def frames_sent(self) -> int:
        return self._seq

    async def accept(self) -> None:
        """Tell the gateway this replica took the request (protocol 2: only if nothing else goes out in time)."""
        if not self._compact:
            await self.send("accepted")

    async def end(self) -> None:
        """Close the stream (protocol 2: a final ``body`` or ``error`` already did)."""
        if not (self._compact and self._last_kind in _FINAL_KINDS):
            await self.send("end")

    async def send(
        self,
        kind: FrameKind,
        *,
        data: str = "",
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        async with self._lock:
            await self._send_locked(kind, data, status, headers)

    async def _send_locked(
        self, kind: FrameKind, data: str, status: int | None, headers: Mapping[str, str] | None
    ) -> None:
        pieces = split_data(data, self.max_data_bytes)
        for index, piece in enumerate(pieces):
            frame = StreamFrame(
                request_id=self._request.request_id,
                user_id=self._request.user_id,
                seq=self._seq,
                kind=kind,
                status=status,
                headers=dict(headers or {}),
                data=piece,
                more=index < len(pieces) - 1,
            )
            await self._connection.publish(self._request.reply_subject, frame.model_dump_json().encode())
            self._seq += 1
        self._last_sent = time.monotonic()
        self._last_kind = kind

    @contextlib.asynccontextmanager
    async def heartbeats(self) -> AsyncIterator[None]:
        """Send a heartbeat whenever nothing else went out for one interval, while the block runs.

        A timer starts the heartbeat task only when it first fires: most requests are answered before that.
        """
        first = ACCEPT_WINDOW_SECONDS if self._compact and self._seq == 0 else self._interval
        beats: list[asyncio.Task[None]] = []
        name = f"heartbeat-{self._request.request_id}"
        timer = asyncio.get_running_loop().call_later(
            first, lambda: beats.append(asyncio.create_task(self._beat(), name=name))
        )
        try:
            yield
        finally:
            timer.cancel()
            for task in beats:
                task.cancel()
                await asyncio.wait({task})
                if not task.cancelled() and (error := task.exception()) is not None:
                    logger.warning("heartbeats for %s stopped: %r", self._request.request_id, error)

    async def _beat(self) -> None:
        if self._compact and self._seq == 0:
            async with self._lock:
                if self._seq == 0:  # the answer was not ready within the accept window
                    await self._send_locked("accepted", "", None, None)
        while True:
            delay = self._last_sent + self._interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            await self.send("heartbeat")
