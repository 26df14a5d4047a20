"""One request's stream of ``StreamFrame``s, with the timeouts that detect a missing or dead orchestrator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.aio.msg import Msg

from switchboard.common.errors import ApiError, OverloadedError
from switchboard.common.events import StreamFrame

__all__ = ["OrchestratorLostError", "ReplyChannel"]

_NO_RESPONDERS = "503"


class OrchestratorLostError(ApiError):
    """The orchestrator serving a request stopped sending frames (crashed or partitioned)."""


class ReplyChannel:
    def __init__(self, request_id: str, *, on_close: Callable[[str], None]) -> None:
        self.request_id = request_id
        self._queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._on_close = on_close
        self._next_seq = 0

    def deliver(self, msg: Msg) -> None:
        self._queue.put_nowait(msg)

    async def raw_message(self) -> Msg:
        return await self._queue.get()

    async def first_frame(self, timeout: float) -> StreamFrame:
        """The frame by which an orchestrator took the request (``accepted``, or already its answer); 529 if none."""
        try:
            return await self.next_frame(timeout)
        except TimeoutError:
            raise OverloadedError("No orchestrator accepted the request in time; try again.") from None

    async def next_frame(self, timeout: float) -> StreamFrame:
        """The next frame, with ``more=True`` continuations joined into one. Raises ``TimeoutError``."""
        frame = await self._next_raw(timeout)
        if not frame.more:
            return frame
        parts = [frame.data]
        while frame.more:
            frame = await self._next_raw(timeout)
            parts.append(frame.data)
        return frame.model_copy(update={"data": "".join(parts), "more": False})

    async def _next_raw(self, timeout: float) -> StreamFrame:
        async with asyncio.timeout(timeout):  # not wait_for, which makes a task per frame on Python 3.11
            msg = await self._queue.get()
        if msg.headers and msg.headers.get("Status") == _NO_RESPONDERS:
            raise OverloadedError("No orchestrator is running; try again later.")
        frame = StreamFrame.model_validate_json(msg.data)
        if frame.seq != self._next_seq:
            raise OrchestratorLostError(f"Frames lost between the orchestrator and the gateway (seq {frame.seq}).")
        self._next_seq += 1
        return frame

    def close(self) -> None:
        self._on_close(self.request_id)
