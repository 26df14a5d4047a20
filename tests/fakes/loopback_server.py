"""A minimal HTTP/1.1 server on 127.0.0.1, run on its own event loop in a background thread.

Written on raw asyncio (not uvicorn) so fakes control the wire exactly: chunked streaming, keep-alive,
dropping a connection mid-body, and noticing at once when the client goes away.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

__all__ = ["HttpRequest", "LoopbackServer", "Responder"]

_log = logging.getLogger(__name__)
_MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class HttpRequest:
    """One parsed request; header names are lower-case, repeated headers joined with ", "."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class Responder:
    """Writes one response: either a whole body or a chunked stream."""

    def __init__(self, transport: asyncio.WriteTransport, *, head_only: bool) -> None:
        self._transport = transport
        self._head_only = head_only
        self.started = False
        self.finished = False
        self.dropped = False

    def send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Send a complete response with a content-length."""
        self._write_head(status, {**headers, "content-length": str(len(body))})
        self._write(b"" if self._head_only else body)
        self.finished = True

    def start_stream(self, status: int, headers: dict[str, str]) -> None:
        """Send the head of a chunked response; follow with `write_chunk` and `end_stream`."""
        self._write_head(status, {**headers, "transfer-encoding": "chunked"})

    def write_chunk(self, data: bytes) -> None:
        if data:
            self._write(b"%x\r\n%b\r\n" % (len(data), data))

    def end_stream(self) -> None:
        self._write(b"0\r\n\r\n")
        self.finished = True

    def drop(self) -> None:
        """Close the connection without finishing the body (flushes what was already written)."""
        self.dropped = True
        self._transport.close()

    def _write_head(self, status: int, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status} {_reason(status)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.started = True

    def _write(self, data: bytes) -> None:
        # After the peer has gone, writes are pointless and make asyncio log socket errors.
        if not self._transport.is_closing():
            self._transport.write(data)


Handler = Callable[[HttpRequest, Responder], Coroutine[Any, Any, None]]
DisconnectCallback = Callable[[HttpRequest], None]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _BadRequestError(Exception):
    """The bytes on the wire are not an HTTP/1.1 request we understand."""


class _Connection(asyncio.Protocol):
    """Serves requests on one keep-alive connection, one at a time (clients do not pipeline)."""

    def __init__(self, server: LoopbackServer) -> None:
        self._server = server
        self._buffer = bytearray()
        self._data_arrived = asyncio.Event()
        self._closed = asyncio.Event()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.track(self, asyncio.get_running_loop().create_task(self._serve()))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._data_arrived.set()

    def eof_received(self) -> bool:
        self._mark_closed()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._mark_closed()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _mark_closed(self) -> None:
        self._closed.set()
        self._data_arrived.set()

    async def _serve(self) -> None:
        assert self._transport is not None
        try:
            while not self._closed.is_set():
                request = await self._read_request()
                if request is None or not await self._respond(request):
                    break
        except (_BadRequestError, ValueError):  # ValueError: a non-numeric length or chunk size
            Responder(self._transport, head_only=False).send(400, {"connection": "close"}, b"")
        finally:
            self._transport.close()
            self._server.untrack(self)

    async def _respond(self, request: HttpRequest) -> bool:
        """Run the handler, cancelling it if the client disconnects; True to keep the connection."""
        assert self._transport is not None
        responder = Responder(self._transport, head_only=request.method == "HEAD")
        handler = asyncio.create_task(self._server.handler(request, responder))
        closed = asyncio.create_task(self._closed.wait())
        try:
            await asyncio.wait({handler, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            if not handler.done():
                handler.cancel()
                await asyncio.wait({handler})
        if handler.cancelled():
            if not responder.finished and not responder.dropped:
                self._server.on_disconnect(request)
            return False
        if (error := handler.exception()) is not None:
            _log.error("fake handler failed", exc_info=error)
            if not responder.started:
                responder.send(500, {"content-type": "text/plain"}, b"fake handler failed")
            return False
        return responder.finished and request.headers.get("connection", "").lower() != "close"

    async def _read_request(self) -> HttpRequest | None:
        head = await self._read_until(b"\r\n\r\n")
        if head is None:
            return None
        method, target, headers = _parse_head(head)
        body = await self._read_body(headers)
        path, _, query = target.partition("?")
        return HttpRequest(method=method, path=path, query=query, headers=headers, body=body)

    async def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await self._read_chunked()
        length = int(headers.get("content-length", "0"))
        return await self._read_exactly(length)

    async def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_line = await self._read_until(b"\r\n")
            if size_line is None:
                raise _BadRequestError("connection closed inside a chunked body")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                await self._read_until(b"\r\n")  # no trailers expected, just the final CRLF
                return bytes(body)
            body += await self._read_exactly(size + 2)
            del body[-2:]

    async def _read_until(self, separator: bytes) -> bytes | None:
        while (end := self._buffer.find(separator)) < 0:
            if len(self._buffer) > _MAX_HEAD:
                raise _BadRequestError("request head too large")
            if not await self._wait_for_data():
                return None
        data = bytes(self._buffer[:end])
        del self._buffer[: end + len(separator)]
        return data

    async def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not await self._wait_for_data():
                raise _BadRequestError("connection closed inside a body")
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def _wait_for_data(self) -> bool:
        if self._closed.is_set():
            return False
        self._data_arrived.clear()
        await self._data_arrived.wait()
        return not self._closed.is_set() or bool(self._buffer)


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequestError(f"bad request line {request_line!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequestError(f"bad header line {line!r}")
        key, value = name.strip().lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return parts[0], parts[1], headers


class LoopbackServer:
    """Runs `handler` for every request on 127.0.0.1:<random port> in a daemon thread."""

    def __init__(self, handler: Handler, on_disconnect: DisconnectCallback) -> None:
        self.handler = handler
        self.on_disconnect = on_disconnect
        self.port = 0
        self._connections: dict[_Connection, asyncio.Task[None]] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        """Bind and serve; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="fake-http-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("fake HTTP server did not start within 10 s")
        if self._error is not None:
            raise RuntimeError("fake HTTP server failed to start") from self._error

    def stop(self) -> None:
        """Close every connection and the listening socket, then join the thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        self._thread = None

    def track(self, connection: _Connection, task: asyncio.Task[None]) -> None:
        self._connections[connection] = task

    def untrack(self, connection: _Connection) -> None:
        self._connections.pop(connection, None)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to start(), which re-raises it
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._loop.create_server(lambda: _Connection(self), "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        tasks = list(self._connections.values())
        for connection, task in list(self._connections.items()):
            task.cancel()
            connection.abort()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
