"""Time streamed responses token by token at concurrency 1: time to first token, gaps between tokens, total.

One keep-alive HTTP/1.1 connection over raw asyncio streams, so the client's own cost is small and the same for
every target. A token is an occurrence of a marker (e.g. ``b'"type":"content_block_delta"'``) in the body.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

__all__ = ["ProbeError", "StreamProbe", "Summary", "probe_stream", "summarize"]

_READ = 65536
_ERROR_BODY = 500

Sink = Callable[[bytes], None]
_Head = tuple[int, dict[str, str], bool]  # status, lower-cased headers, whether the server closes after it


class ProbeError(Exception):
    """The target answered other than 200, broke the HTTP framing, or streamed no token."""


@dataclass(frozen=True)
class Summary:
    """Nearest-rank percentiles and mean of samples in ms; all zero when ``count`` is 0."""

    p50: float
    p90: float
    p99: float
    mean: float
    count: int


@dataclass(frozen=True)
class StreamProbe:
    """Measured streams: gaps pool every stream's gaps between consecutive tokens."""

    requests: int
    tokens_per_stream: float
    ttft_ms: Summary
    gap_ms: Summary
    total_ms: Summary

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def summarize(samples: Sequence[float]) -> Summary:
    if not samples:
        return Summary(0.0, 0.0, 0.0, 0.0, 0)
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]

    return Summary(rank(50), rank(90), rank(99), statistics.fmean(ordered), len(ordered))


async def probe_stream(
    host: str,
    port: int,
    path: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    token_marker: bytes,
    requests: int,
    warmup: int = 5,
    timeout: float = 60.0,
) -> StreamProbe:
    """POST ``body`` ``warmup`` times unmeasured, then ``requests`` times measured, one after another."""
    if not token_marker:
        raise ValueError("token_marker must not be empty")
    request = _request(host, port, path, body, headers)
    connection = _Connection(host, port)

    async def one() -> _Stream:
        return await asyncio.wait_for(_exchange(connection, request, token_marker), timeout)

    try:
        for _ in range(warmup):
            await one()
        streams = [await one() for _ in range(requests)]
    finally:
        await connection.close()
    return StreamProbe(
        requests=len(streams),
        tokens_per_stream=statistics.fmean(len(s.arrivals) for s in streams) if streams else 0.0,
        ttft_ms=summarize([s.ttft_ms for s in streams]),
        gap_ms=summarize([gap for s in streams for gap in s.gaps_ms]),
        total_ms=summarize([s.total_ms for s in streams]),
    )


@dataclass
class _Stream:
    """One response as it arrived: when each token came, counting markers split across reads once."""

    marker: bytes
    start: float
    arrivals: list[float] = field(default_factory=list)
    end: float = 0.0
    _tail: bytes = b""

    def feed(self, data: bytes) -> None:
        now = time.perf_counter()
        window = self._tail + data
        self.arrivals += [now] * window.count(self.marker)
        # Keep what could begin a marker, but never the end of one already counted.
        keep_from = len(window) - (len(self.marker) - 1)
        last = window.rfind(self.marker)
        if last >= 0:
            keep_from = max(keep_from, last + len(self.marker))
        self._tail = window[max(0, keep_from) :]

    @property
    def ttft_ms(self) -> float:
        return (self.arrivals[0] - self.start) * 1000

    @property
    def gaps_ms(self) -> list[float]:
        return [(b - a) * 1000 for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)]

    @property
    def total_ms(self) -> float:
        return (self.end - self.start) * 1000


class _Connection:
    """The keep-alive connection, opened on first use and again after a response that closed it."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    @property
    def is_open(self) -> bool:
        return self._streams is not None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        return self._streams

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            await asyncio.gather(writer.wait_closed(), return_exceptions=True)


def _request(host: str, port: int, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    given = {name.lower() for name in headers}
    defaults = {"Host": f"{host}:{port}", "Content-Type": "application/json", "Connection": "keep-alive"}
    fields = {name: value for name, value in defaults.items() if name.lower() not in given}
    fields |= {**headers, "Content-Length": str(len(body))}
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return (head + "\r\n").encode("latin-1") + body


async def _exchange(connection: _Connection, request: bytes, marker: bytes) -> _Stream:
    """One request and its whole response, the body timed as it arrives."""
    stream, reader, (status, headers, closes) = await _start(connection, request, marker)
    if status != 200:
        error = bytearray()
        await _read_body(reader, headers, error.extend)
        await connection.close()
        raise ProbeError(f"status {status}: {bytes(error[:_ERROR_BODY])!r}")
    closes = await _read_body(reader, headers, stream.feed) or closes
    stream.end = time.perf_counter()
    if closes:
        await connection.close()
    if not stream.arrivals:
        raise ProbeError(f"the stream carried no {marker!r}")
    return stream


async def _start(connection: _Connection, request: bytes, marker: bytes) -> tuple[_Stream, asyncio.StreamReader, _Head]:
    """Send and read the head; once more on a fresh connection if the server had closed the reused one."""
    reused = connection.is_open
    try:
        return await _send(connection, request, marker)
    except (asyncio.IncompleteReadError, ConnectionError):
        await connection.close()
        if not reused:
            raise
    return await _send(connection, request, marker)


async def _send(connection: _Connection, request: bytes, marker: bytes) -> tuple[_Stream, asyncio.StreamReader, _Head]:
    reader, writer = await connection.open()
    stream = _Stream(marker, time.perf_counter())
    writer.write(request)
    await writer.drain()
    return stream, reader, await _read_head(reader)


async def _read_head(reader: asyncio.StreamReader) -> _Head:
    """Status, lower-cased headers, and whether the server will close the connection after this response."""
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/") or not rest[:3].isdigit():
        raise ProbeError(f"not an HTTP response: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    closes = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
    return int(rest[:3]), headers, closes


async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str], sink: Sink) -> bool:
    """Pass the body to ``sink`` as it arrives; true when it ran to EOF, so the connection is spent."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        await _read_chunked(reader, sink)
        return False
    if "content-length" in headers:
        await _read_exactly(reader, int(headers["content-length"]), sink)
        return False
    while data := await reader.read(_READ):
        sink(data)
    return True


async def _read_chunked(reader: asyncio.StreamReader, sink: Sink) -> None:
    while size := _chunk_size(await reader.readuntil(b"\r\n")):
        await _read_exactly(reader, size, sink)
        await reader.readexactly(2)
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, up to the blank line
        pass


def _chunk_size(line: bytes) -> int:
    try:
        return int(line.split(b";")[0].strip(), 16)
    except ValueError:
        raise ProbeError(f"bad chunk size line {line[:80]!r}") from None


async def _read_exactly(reader: asyncio.StreamReader, size: int, sink: Sink) -> None:
    while size > 0:
        data = await reader.read(min(size, _READ))
        if not data:
            raise ProbeError(f"connection closed with {size} bytes of the body still to come")
        sink(data)
        size -= len(data)
