"""A fake Lago API: a real HTTP server on 127.0.0.1 that ingests usage events the way lago-api does.

Faithful where metering depends on it: Bearer auth, ``POST /api/v1/events`` and ``/api/v1/events/batch``,
validation (``transaction_id`` and ``code`` required, numeric epoch ``timestamp``, at most 100 events), dedupe on
``(external_subscription_id, transaction_id)`` answered with 422 ``value_already_exist``, and all-or-nothing
batches with errors keyed by index. Tests inject faults: 500s, 429s, slow answers, refusals, an outage.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from .loopback_server import Responder
from .recording_server import RecordedRequest, RecordingServer

__all__ = ["FakeLago"]

MAX_BATCH = 100
_JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class _Fault:
    status: int
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


def _error(status: int, error: str, code: str, details: Any = None) -> bytes:
    body: dict[str, Any] = {"status": status, "error": error, "code": code}
    if details is not None:
        body["error_details"] = details
    return json.dumps(body).encode()


def _validation(details: Any) -> tuple[int, bytes]:
    return 422, _error(422, "Unprocessable Entity", "validation_errors", details)


class FakeLago(RecordingServer):
    """Use as a context manager or `start()`/`stop()`; `url` is LAGO_API_URL, `api_key` the key it accepts."""

    def __init__(self, api_key: str = "lago-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self._events: list[dict[str, Any]] = []
        self._keys: set[tuple[str | None, str]] = set()
        self._faults: deque[_Fault] = deque()
        self._refused: dict[str, dict[str, list[str]]] = {}
        self._down: Literal["503", "drop"] | None = None
        self._batch_calls = 0
        self._state = threading.Lock()

    # --- what the test sets --------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500) -> None:
        """The next `count` event requests answer `status` without storing anything."""
        self._push(count, _Fault(status))

    def rate_limit_next(self, count: int, reset_seconds: int = 1) -> None:
        """The next `count` event requests answer 429 with Lago's X-RateLimit-* headers."""
        headers = (
            ("x-ratelimit-limit", "500"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", str(reset_seconds)),
        )
        self._push(count, _Fault(429, headers=headers))

    def delay_next(self, count: int, seconds: float) -> None:
        """The next `count` event requests are *stored*, then answered only after `seconds` (a lost response)."""
        self._push(count, _Fault(0, delay=seconds))

    def refuse(self, transaction_id: str, errors: dict[str, list[str]] | None = None) -> None:
        """Answer a per-event validation error for this transaction id until `accept_all`."""
        with self._state:
            self._refused[transaction_id] = errors or {"properties": ["invalid_value"]}

    def accept_all(self) -> None:
        with self._state:
            self._refused.clear()

    def set_down(self, mode: Literal["503", "drop"] | None) -> None:
        """Outage: every request answers 503, or has its connection dropped; `None` ends it."""
        with self._state:
            self._down = mode

    def preload(self, event: dict[str, Any]) -> None:
        """An event Lago already has (billed by someone before us)."""
        with self._state:
            self._store(event)

    # --- what the test reads -------------------------------------------------------------------------------
    def events(self) -> list[dict[str, Any]]:
        with self._state:
            return list(self._events)

    def transaction_ids(self) -> list[str]:
        with self._state:
            return [event["transaction_id"] for event in self._events]

    def total(self, prop: str, external_subscription_id: str | None = None) -> float:
        """Sum of a numeric property over stored events (of one subscription, or all)."""
        with self._state:
            return sum(
                float(event.get("properties", {}).get(prop) or 0)
                for event in self._events
                if external_subscription_id is None or event.get("external_subscription_id") == external_subscription_id
            )

    @property
    def batch_calls(self) -> int:
        with self._state:
            return self._batch_calls

    # --- the protocol --------------------------------------------------------------------------------------
    async def _serve(self, request: RecordedRequest, responder: Responder) -> None:
        with self._state:
            down = self._down
        if down == "drop":
            responder.drop()
            return
        if down == "503":
            responder.send(503, _JSON, _error(503, "Service Unavailable", "service_unavailable"))
            return
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            responder.send(401, _JSON, _error(401, "Unauthorized", "unauthorized"))
            return
        if request.method == "GET" and request.path.startswith("/api/v1/billable_metrics"):
            meta = {"current_page": 1, "next_page": None, "prev_page": None, "total_pages": 0, "total_count": 0}
            responder.send(200, _JSON, json.dumps({"billable_metrics": [], "meta": meta}).encode())
            return
        if request.method == "POST" and request.path in ("/api/v1/events", "/api/v1/events/batch"):
            await self._ingest(request, responder)
            return
        responder.send(404, _JSON, _error(404, "Not Found", "resource_not_found"))

    async def _ingest(self, request: RecordedRequest, responder: Responder) -> None:
        fault = self._take_fault()
        if fault is not None and fault.status:
            responder.send(fault.status, {**_JSON, **dict(fault.headers)}, _error(fault.status, "Error", "fault"))
            return
        batch = request.path.endswith("/batch")
        status, body = self._apply(request.json, batch=batch)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        responder.send(status, _JSON, body)

    def _apply(self, payload: Any, *, batch: bool) -> tuple[int, bytes]:
        with self._state:
            if batch:
                self._batch_calls += 1
                events = payload.get("events") if isinstance(payload, dict) else None
                if not isinstance(events, list) or not events:
                    return _validation({"events": ["no_events"]})
                if len(events) > MAX_BATCH:
                    return _validation({"events": ["too_many_events"]})
            else:
                event = payload.get("event") if isinstance(payload, dict) else None
                events = [event] if isinstance(event, dict) else [{}]
            errors = self._validate(events)
            if errors:
                return _validation({str(i): e for i, e in errors.items()} if batch else errors[0])
            for event in events:
                self._store(event)
            if batch:
                return 200, json.dumps({"events": events}).encode()
            return 200, json.dumps({"event": events[0]}).encode()

    def _validate(self, events: list[Any]) -> dict[int, dict[str, list[str]]]:
        errors: dict[int, dict[str, list[str]]] = {}
        for index, event in enumerate(events):
            found = _field_errors(event) if isinstance(event, dict) else {"event": ["invalid_format"]}
            if not found:
                key = (event.get("external_subscription_id"), str(event["transaction_id"]))
                if key in self._keys:
                    found = {"transaction_id": ["value_already_exist"]}
                elif (refusal := self._refused.get(str(event["transaction_id"]))) is not None:
                    found = refusal
            if found:
                errors[index] = found
        return errors

    def _store(self, event: dict[str, Any]) -> None:
        self._keys.add((event.get("external_subscription_id"), str(event["transaction_id"])))
        self._events.append(event)

    def _push(self, count: int, fault: _Fault) -> None:
        with self._state:
            self._faults.extend([fault] * count)

    def _take_fault(self) -> _Fault | None:
        with self._state:
            return self._faults.popleft() if self._faults else None


def _field_errors(event: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in ("transaction_id", "code"):
        if not event.get(name):
            found[name] = ["value_is_mandatory"]
    timestamp = event.get("timestamp")
    if timestamp is not None and not _numeric(timestamp):
        found["timestamp"] = ["invalid_format"]
    return found


def _numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(value)  # Lago parses with Float(...): "1732530000.5" is accepted, an ISO date is not
    except (TypeError, ValueError):
        return False
    return True
