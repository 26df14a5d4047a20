"""The SDK's stdio transport, watched: an event is set when the MCP server's process ends (its stdout closes).

The SDK's ``Client`` has no public way to learn that its server went away between calls; this is it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

import anyio
from mcp import StdioServerParameters, stdio_client
from mcp.client._transport import ReadStream, TransportStreams  # the SDK's Transport protocol; no public alias
from mcp.shared.message import SessionMessage

__all__ = ["watched_stdio"]


class _WatchedReadStream:
    """The server's read stream, setting ``ended`` at end of stream: the server's process has exited."""

    def __init__(self, inner: ReadStream[SessionMessage | Exception], ended: asyncio.Event) -> None:
        self._inner = inner
        self._ended = ended

    async def receive(self) -> SessionMessage | Exception:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._ended.set()
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


@asynccontextmanager
async def watched_stdio(params: StdioServerParameters, ended: asyncio.Event) -> AsyncIterator[TransportStreams]:
    async with stdio_client(params) as (read_stream, write_stream):
        yield _WatchedReadStream(read_stream, ended), write_stream
