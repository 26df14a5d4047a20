"""Rate-limit tiers: the built-in defaults and the JSON overrides (``SWITCHBOARD_TIERS``) merged over them."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["DEFAULT_TIER", "DEFAULT_TIERS", "TierLimits", "load_tiers"]


class TierLimits(BaseModel):
    """The limits of one tier; ``None`` means unlimited."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)

    requests_per_minute: int | None = Field(default=None, ge=0)
    """Requests admitted per clock-aligned minute."""
    requests_per_day: int | None = Field(default=None, ge=0)
    """Requests admitted per UTC day."""
    tokens_per_minute: int | None = Field(default=None, ge=0)
    """Input + output + cache-write tokens per clock-aligned minute, charged after each completion."""

    @property
    def unlimited(self) -> bool:
        return self.requests_per_minute is None and self.requests_per_day is None and self.tokens_per_minute is None


DEFAULT_TIER = "free"
"""The tier of a user whose tier is unknown to this deployment."""

DEFAULT_TIERS: dict[str, TierLimits] = {
    "free": TierLimits(requests_per_minute=10, requests_per_day=100, tokens_per_minute=20_000),
    "starter": TierLimits(requests_per_minute=60, requests_per_day=1000, tokens_per_minute=100_000),
    "pro": TierLimits(requests_per_minute=300, tokens_per_minute=1_000_000),
    "enterprise": TierLimits(),
}


def load_tiers(override_json: str | None) -> dict[str, TierLimits]:
    """The default tiers with ``override_json`` merged over them, field by field.

    A tier named in the override keeps the default's fields it does not mention; a new tier starts unlimited.
    Raises ``ValueError`` naming the problem when the document is not valid JSON or a tier is malformed.
    """
    tiers = dict(DEFAULT_TIERS)
    if override_json is None or not override_json.strip():
        return tiers
    try:
        document = json.loads(override_json)
    except json.JSONDecodeError as exc:
        raise ValueError(f"tier overrides (SWITCHBOARD_TIERS) are not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("tier overrides (SWITCHBOARD_TIERS) must be a JSON object of tier name -> limits")
    for name, fields in document.items():
        tiers[name] = _merged(name, tiers.get(name, TierLimits()), fields)
    return tiers


def _merged(name: str, base: TierLimits, fields: Any) -> TierLimits:
    if not name:
        raise ValueError("tier overrides (SWITCHBOARD_TIERS): a tier name cannot be empty")
    if not isinstance(fields, dict):
        raise ValueError(f"tier overrides (SWITCHBOARD_TIERS): tier {name!r} must be an object of limits")
    try:
        return TierLimits.model_validate({**base.model_dump(), **fields})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors())
        raise ValueError(f"tier overrides (SWITCHBOARD_TIERS): tier {name!r} is invalid: {problems}") from exc
