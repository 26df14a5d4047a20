"""Structured logs: one JSON object per line, stamped with the request id and trace of the work it is about.

Every service calls :func:`configure_logging` once at start-up. Code that serves one request binds its id with
:func:`bind_request_id` (the gateway's middleware, the orchestrator's and tool-broker's per-request tasks,
metering per event); every line logged below it, by our code or a library's, carries it. Records are formatted
where they are logged (so the context is the right one) and written by a thread, never on the event loop.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, Literal, TextIO

from switchboard.common.tracing import current_trace_ids

__all__ = [
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "bind_request_id",
    "configure_logging",
    "request_scope",
    "unbind_request_id",
]

LogFormat = Literal["json", "text"]

_REQUEST_ID: ContextVar[str | None] = ContextVar("switchboard_request_id", default=None)

# Everything a LogRecord has of its own; any other attribute came in through ``extra=`` and is logged as a field.
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# HTTP clients' DEBUG lines carry request headers (provider keys among them), and access lines are the metrics'.
_QUIET_LIBRARIES = {"aiohttp": logging.WARNING, "httpx": logging.WARNING, "httpcore": logging.WARNING}


def bind_request_id(request_id: str) -> Token[str | None]:
    """Stamp ``request_id`` on every line logged from this context (a task, a request) on."""
    return _REQUEST_ID.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _REQUEST_ID.reset(token)


@contextmanager
def request_scope(request_id: str) -> Iterator[None]:
    """:func:`bind_request_id` for a block, inside work that is not about one request (a connection, a batch)."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "service", "logger", "message", "request_id", "trace_id", "span_id", …extra}``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_timestamp(record.created),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        _add_context(entry, record)
        entry.update((key, value) for key, value in record.__dict__.items() if key not in _RECORD_FIELDS)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a terminal: ``time level logger [request id]: message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = _request_id_of(record)
        record.context = f" [{request_id}]" if request_id else ""
        return super().format(record)


def _request_id_of(record: logging.LogRecord) -> str | None:
    """The id the call site gave (``extra=``), else the one bound to the context it logs from."""
    given: str | None = getattr(record, "request_id", None)
    return given or _REQUEST_ID.get()


def _add_context(entry: dict[str, Any], record: logging.LogRecord) -> None:
    request_id = _request_id_of(record)
    if request_id:
        entry["request_id"] = request_id
    ids = current_trace_ids()
    if ids is not None:
        entry["trace_id"], entry["span_id"] = ids


def _utc_timestamp(created: float) -> str:
    return f"{_utc_second(int(created))}.{int(created % 1 * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


class _LineHandler(logging.Handler):
    """Formats where the record is logged (the context vars are there) and queues the finished line.

    A thread of its own writes the lines, in batches: the event loop never waits on stderr, and no second
    ``LogRecord`` is made per line (``QueueHandler`` makes one: a quarter of the cost of an access line).
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._stream = stream
        self._writer = threading.Thread(target=self._write, name="log-writer", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.put(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never take the process down
            self.handleError(record)

    def _write(self) -> None:
        while (line := self._lines.get()) is not None:
            batch = [line]
            with contextlib.suppress(queue.Empty):
                while len(batch) < _BATCH and (line := self._lines.get_nowait()) is not None:
                    batch.append(line)
            self._stream.write("\n".join(batch) + "\n")
            self._stream.flush()
            if line is None:
                return

    def close(self) -> None:
        """Write what is queued, then stop the writer (at exit)."""
        self._lines.put(None)
        self._writer.join(timeout=5)
        super().close()


_BATCH = 256


def configure_logging(service: str, level: str, log_format: LogFormat = "json") -> None:
    """Route every logger of the process (ours, uvicorn's, FastStream's, …) to stderr in ``log_format``."""
    # The logging docs' own optimisations: no caller frame, thread or process lookups per record (no line has them).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = _LineHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in root.handlers[:]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "faststream.access"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    for name, floor in _QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
    atexit.register(handler.close)
