"""The two Lago calls metering makes (batch ingest, reachability probe) and how each answer is classified.

``classify`` is the whole retry policy: network errors, 429 and 5xx are transient; a 422 is split per event
(``value_already_exist`` = already billed); any other 4xx is a permanent rejection of the whole batch.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from switchboard.metering.backoff import server_wait_hint

logger = logging.getLogger(__name__)

__all__ = ["DUPLICATE", "BatchAnswer", "LagoClient", "classify"]

DUPLICATE = "value_already_exist"
_PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class BatchAnswer:
    """What one POST of a batch means for each of its events (indexes into the batch sent)."""

    status: int | None
    """HTTP status, ``None`` for a timeout or network error."""
    accepted: bool = False
    """Every event was stored."""
    retry: bool = False
    """Transient failure: send the same batch again later."""
    wait_hint: float | None = None
    duplicates: frozenset[int] = frozenset()
    """Events Lago already has (billed before): success."""
    rejected: dict[int, str] = field(default_factory=dict)
    """Events Lago refused for good, with the reason."""
    reject_all: str | None = None
    """The whole batch was refused for good (4xx other than 429/422-per-event)."""
    network_failure: str | None = None
    """Without an answer: ``timeout`` or ``connection``."""

    @property
    def failed(self) -> bool:
        """Something was not stored and not already there: what the delivery-failure metric counts."""
        return self.retry or self.reject_all is not None or bool(self.rejected)


_MISCONFIGURED = frozenset({401, 403, 404})
"""Answers about the request (credentials, endpoint), not about any event in it."""


def classify(status: int, headers: dict[str, str], body: bytes, size: int) -> BatchAnswer:
    """The meaning of Lago's answer to a batch of ``size`` events."""
    if 200 <= status < 300:
        return BatchAnswer(status, accepted=True)
    if status == 429 or status >= 500:
        return BatchAnswer(status, retry=True, wait_hint=server_wait_hint(headers))
    if status in _MISCONFIGURED:
        # A wrong key or URL says nothing about the events: dead-lettering them all would be wrong. Wait for the fix.
        logger.error("Lago answered %d to a batch: check LAGO_API_URL and LAGO_API_KEY; retrying", status)
        return BatchAnswer(status, retry=True)
    if status == 422:
        per_event = _per_event_errors(body, size)
        if per_event is not None:
            duplicates = frozenset(i for i, errors in per_event.items() if _only_duplicate(errors))
            rejected = {i: f"422 {json.dumps(errors)}" for i, errors in per_event.items() if i not in duplicates}
            return BatchAnswer(status, duplicates=duplicates, rejected=rejected)
    return BatchAnswer(status, reject_all=f"{status} {body[:500].decode(errors='replace')}")


def _per_event_errors(body: bytes, size: int) -> dict[int, Any] | None:
    """``error_details`` keyed by event index (batch) or flat (single event of a batch of one); else None."""
    try:
        details = json.loads(body).get("error_details")
    except (ValueError, AttributeError):
        return None
    if not isinstance(details, dict) or not details:
        return None
    if all(isinstance(key, str) and key.isdigit() and int(key) < size for key in details):
        return {int(key): errors for key, errors in details.items()}
    if size == 1 and "transaction_id" in details:
        return {0: details}
    return None


def _only_duplicate(errors: Any) -> bool:
    return isinstance(errors, dict) and set(errors) == {"transaction_id"} and errors["transaction_id"] == [DUPLICATE]


class LagoClient:
    """One pooled ``httpx.AsyncClient`` to Lago, created once per process."""

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    async def send_batch(self, events: list[dict[str, Any]]) -> BatchAnswer:
        """POST ``/api/v1/events/batch`` once; never raises for Lago's or the network's failures."""
        try:
            response = await self._http.post("/api/v1/events/batch", content=json.dumps({"events": events}))
        except httpx.TimeoutException:
            return BatchAnswer(None, retry=True, network_failure="timeout")
        except httpx.TransportError:  # refused and dropped connections
            return BatchAnswer(None, retry=True, network_failure="connection")
        return classify(response.status_code, dict(response.headers), response.content, len(events))

    async def reachable(self) -> bool:
        """A cheap authenticated read; any answer below 500 means Lago is up."""
        try:
            response = await self._http.get("/api/v1/billable_metrics", params={"per_page": 1}, timeout=_PROBE_TIMEOUT)
        except httpx.TransportError:
            return False
        return response.status_code < 500

    async def aclose(self) -> None:
        await self._http.aclose()
