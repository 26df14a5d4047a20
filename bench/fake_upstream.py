"""A fake LLM upstream fast enough never to be the bottleneck: Anthropic Messages and OpenAI Chat Completions.

Raw ``asyncio.Protocol`` + httptools on uvloop, answering with response bytes built once per (endpoint, model, stream).
Models whose name contains ``paced`` stream each content delta ``paced_delay_ms`` after the last, one write each.
Run ``python -m bench.fake_upstream --port 0``: it prints ``READY <port>`` once listening and exits 0 on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import queue
import signal
import socket
import sys
from collections import deque
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import NamedTuple, cast

import httptools
import uvloop

from bench.fake_responses import ID_SLOT, Responder, Wire, error_response

__all__ = ["FakeOptions", "main", "serve"]

_SLOT = ID_SLOT.encode()


@dataclass(frozen=True, slots=True)
class FakeOptions:
    deltas: int = 16
    """Content deltas per stream, and words per reply."""
    paced_delay_ms: float = 1.0
    """Wait before each content delta of a stream whose model name contains ``paced``."""
    delay_ms: float = 0.0
    """Wait before every response head (upstream think time)."""


class _Request(NamedTuple):
    method: bytes
    url: bytes
    body: bytes
    close: bool
    chunked: bool


class _Connection(asyncio.Protocol):
    """One client connection: parses requests with httptools and answers them strictly in order."""

    def __init__(self, responder: Responder, options: FakeOptions, loop: asyncio.AbstractEventLoop) -> None:
        self._responder, self._options, self._loop = responder, options, loop
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport
        self._url = b""
        self._body: list[bytes] = []
        self._close = False
        self._http11 = True
        self._busy = False
        """A delayed or paced response is in flight; later requests wait in ``_queue``."""
        self._queue: deque[_Request] = deque()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:  # declined: the request was answered as plain HTTP/1.1
            if rest := data[upgrade.args[0] :]:
                self.data_received(rest)
        except httptools.HttpParserCallbackError:
            raise
        except httptools.HttpParserError:
            if not self._transport.is_closing():
                wire = error_response(400, "invalid_request_error", "malformed or unsupported HTTP request")
                self._transport.write(wire.whole[1].replace(_SLOT, self._responder.next_id()))
                self._transport.close()

    def on_message_begin(self) -> None:
        self._url, self._body = b"", []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_headers_complete(self) -> None:
        self._http11 = self._parser.get_http_version() == "1.1"
        # HTTP/1.0 always closes: a 1.0 keep-alive would need its own response header, and no bench client sends it.
        self._close = not (self._http11 and self._parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        request = _Request(self._parser.get_method(), self._url, b"".join(self._body), self._close, self._http11)
        if self._busy or self._queue:
            self._queue.append(request)
        else:
            self._begin(request)

    def _begin(self, request: _Request) -> None:
        if self._transport.is_closing():
            return
        wire, paced = self._responder.respond(request.method, request.url, request.body, chunked=request.chunked)
        rid, delay = self._responder.next_id(), self._options.delay_ms / 1000
        if delay > 0 or paced:
            self._busy = True
        if delay > 0:
            self._loop.call_later(delay, self._send, wire, rid, request.close, paced)
        else:
            self._send(wire, rid, request.close, paced)

    def _send(self, wire: Wire, rid: bytes, close: bool, paced: bool) -> None:
        if self._transport.is_closing():
            return
        if paced:
            self._transport.write((wire.heads[close] + wire.opening).replace(_SLOT, rid))
            self._pace(wire, rid, close, 0)
            return
        self._transport.write(wire.whole[close].replace(_SLOT, rid))
        self._finish(close)

    def _pace(self, wire: Wire, rid: bytes, close: bool, index: int) -> None:
        self._loop.call_later(self._options.paced_delay_ms / 1000, self._write_delta, wire, rid, close, index)

    def _write_delta(self, wire: Wire, rid: bytes, close: bool, index: int) -> None:
        if self._transport.is_closing():
            return
        if index + 1 < len(wire.deltas):
            self._transport.write(wire.deltas[index].replace(_SLOT, rid))
            self._pace(wire, rid, close, index + 1)
            return
        last = wire.deltas[index] if wire.deltas else b""
        self._transport.write((last + wire.closing).replace(_SLOT, rid))
        self._finish(close)

    def _finish(self, close: bool) -> None:
        if close:
            self._transport.close()
            return
        if not self._busy:
            return  # answered synchronously: on_message_complete carries on with the next request
        self._busy = False
        while self._queue and not self._busy and not self._transport.is_closing():
            self._begin(self._queue.popleft())


async def serve(host: str, port: int, options: FakeOptions, *, reuse_port: bool = False) -> asyncio.Server:
    """Start serving on the running loop (uvloop or not); the caller closes the returned server."""
    loop = asyncio.get_running_loop()
    responder = Responder(options.deltas)
    return await loop.create_server(
        lambda: _Connection(responder, options, loop), host, port, reuse_port=reuse_port, backlog=1024
    )


async def _run(host: str, port: int, options: FakeOptions, *, reuse_port: bool, ready: Queue[int] | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await serve(host, port, options, reuse_port=reuse_port)
    bound = cast(int, server.sockets[0].getsockname()[1])
    if ready is None:
        print(f"READY {bound}", flush=True)
    else:
        ready.put(bound)
    try:
        await stop.wait()
    finally:
        server.close()  # not wait_closed(): that would wait for idle keep-alive clients to hang up


def _worker(host: str, port: int, options: FakeOptions, ready: Queue[int]) -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    uvloop.run(_run(host, port, options, reuse_port=True, ready=ready))


def _reserve_port(host: str, port: int) -> socket.socket:
    """Bound but not listening, so the workers can share the port yet no connection ever lands here."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    probe.bind((host, port))
    return probe


def _supervise(host: str, port: int, options: FakeOptions, workers: int) -> int:
    """Fork ``workers`` processes that share one port; relay SIGTERM/SIGINT to them."""
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)  # the workers unblock; here they wait for sigtimedwait
    context = multiprocessing.get_context("fork")
    ready: Queue[int] = context.Queue()
    with _reserve_port(host, port) as probe:
        bound = cast(int, probe.getsockname()[1])
        processes = [context.Process(target=_worker, args=(host, bound, options, ready)) for _ in range(workers)]
        for process in processes:
            process.start()
        try:
            for _ in processes:
                ready.get(timeout=15)
        except queue.Empty:  # a worker failed to start; its traceback is on stderr
            status = 1
        else:
            print(f"READY {bound}", flush=True)
            status = 0
    while status == 0 and signal.sigtimedwait(signals, 0.5) is None:
        if not all(process.is_alive() for process in processes):
            status = 1
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_upstream", description="A fast fake LLM upstream.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed as READY <port>)")
    parser.add_argument("--deltas", type=int, default=16, help="content deltas per stream (and words per reply)")
    parser.add_argument("--paced-delay-ms", type=float, default=1.0, help="gap between deltas of *paced* models")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="wait before every response head")
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the port via SO_REUSEPORT")
    args = parser.parse_args(argv)
    options = FakeOptions(deltas=args.deltas, paced_delay_ms=args.paced_delay_ms, delay_ms=args.delay_ms)
    if args.workers > 1:
        return _supervise(args.host, args.port, options, args.workers)
    uvloop.run(_run(args.host, args.port, options, reuse_port=False, ready=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
