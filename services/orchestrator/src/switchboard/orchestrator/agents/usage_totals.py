"""Token counts summed over an agent's provider calls: what the client is told and what is billed."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["USAGE_FIELDS", "UsageTotals"]

USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


class UsageTotals:
    def __init__(self) -> None:
        self._tokens = dict.fromkeys(USAGE_FIELDS, 0)

    def add(self, usage: Mapping[str, int]) -> None:
        """Add one provider call's final counts (within one call they are cumulative, so only its last ones)."""
        for name in USAGE_FIELDS:
            self._tokens[name] += usage.get(name, 0)

    def as_dict(self) -> dict[str, int]:
        """All four fields, zeros included: a client must not keep a count from an earlier event."""
        return dict(self._tokens)
