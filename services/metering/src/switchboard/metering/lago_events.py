"""How one ``CompletionRecorded`` becomes Lago usage events: codes, properties, transaction ids, timestamps.

Everything here is deterministic in the completion, so a retried or replayed completion produces byte-identical
events and Lago's ``transaction_id`` dedupe makes billing exactly-once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard.common.events import CompletionRecorded

__all__ = ["DEFAULT_METRICS", "PROPERTY_NAMES", "BillableMetric", "EventMapper", "tool_calls"]


def tool_calls(completion: CompletionRecorded) -> int:
    """Client-visible ``tool_use`` blocks plus the MCP tool calls an agent ran."""
    return completion.tool_use_count + len(completion.mcp_tool_calls)


_PROPERTIES: dict[str, Callable[[CompletionRecorded], Any]] = {
    "model": lambda c: c.requested_model,
    "upstream_model": lambda c: c.upstream_model,
    "provider": lambda c: c.provider,
    "input_tokens": lambda c: c.input_tokens,
    "output_tokens": lambda c: c.output_tokens,
    "cache_creation_input_tokens": lambda c: c.cache_creation_input_tokens,
    "cache_read_input_tokens": lambda c: c.cache_read_input_tokens,
    "execution_ms": lambda c: c.latency_ms,
    "tool_calls": tool_calls,
    "byok": lambda c: c.byok,
    "status": lambda c: c.status,
}
PROPERTY_NAMES = tuple(_PROPERTIES)
DEFAULT_METRICS: dict[str, list[str]] = {"switchboard_usage": list(PROPERTY_NAMES)}


@dataclass(frozen=True)
class BillableMetric:
    """One Lago billable metric code and the completion properties its events carry."""

    code: str
    properties: tuple[str, ...]

    @classmethod
    def parse_all(cls, text: str) -> list[BillableMetric]:
        """Parse ``SWITCHBOARD_LAGO_METRICS``; raises ValueError naming what is wrong."""
        raw = json.loads(text)
        if not isinstance(raw, dict) or not raw:
            raise ValueError("SWITCHBOARD_LAGO_METRICS must be a non-empty JSON object of code -> property list")
        metrics = []
        for code, names in raw.items():
            if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
                raise ValueError(f"metric {code!r}: properties must be a list of names")
            unknown = sorted(set(names) - set(PROPERTY_NAMES))
            if unknown:
                raise ValueError(f"metric {code!r}: unknown properties {unknown}; known: {list(PROPERTY_NAMES)}")
            metrics.append(cls(code, tuple(names)))
        return metrics


class EventMapper:
    """Maps completions to Lago event bodies for a fixed metric list and subscription-id template."""

    def __init__(self, metrics: list[BillableMetric], subscription_template: str) -> None:
        self._metrics = metrics
        self._template = subscription_template

    def transaction_id(self, completion: CompletionRecorded, metric: BillableMetric) -> str:
        # One metric: the request id itself, the id operators search Lago by. Several: one event per code.
        if len(self._metrics) == 1:
            return completion.request_id
        return f"{completion.request_id}:{metric.code}"

    def subscription_id(self, completion: CompletionRecorded) -> str:
        """The user's own billing account when their record names one, else the template's."""
        return completion.billing_account or self._template.replace("{user_id}", completion.user_id)

    def events(self, completion: CompletionRecorded) -> list[dict[str, Any]]:
        """The Lago ``event`` objects of one completion, one per billable metric."""
        return [
            {
                "transaction_id": self.transaction_id(completion, metric),
                "external_subscription_id": self.subscription_id(completion),
                "code": metric.code,
                # Unix seconds (Lago rejects ISO strings); from the fact itself, so every retry sends the same value.
                "timestamp": int(completion.occurred_at.timestamp()),
                "properties": {name: _PROPERTIES[name](completion) for name in metric.properties},
            }
            for metric in self._metrics
        ]
