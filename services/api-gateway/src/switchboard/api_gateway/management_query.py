"""Query strings of the management API (``/api/v1/...``): unknown or malformed parameters are a 400 naming them."""

from __future__ import annotations

from collections.abc import Mapping

from switchboard.common.errors import InvalidRequestError

__all__ = ["integer_param", "optional_integer_param", "reject_unknown_params"]


def reject_unknown_params(params: Mapping[str, str], known: frozenset[str] = frozenset()) -> None:
    """A misspelt filter must fail loudly rather than be ignored (and so widen the answer)."""
    unknown = sorted(set(params) - known)
    if unknown:
        expected = f"known: {', '.join(sorted(known))}" if known else "this endpoint takes none"
        raise InvalidRequestError(f"{unknown[0]}: unknown query parameter ({expected})")


def integer_param(params: Mapping[str, str], name: str, *, low: int, high: int, default: int) -> int:
    value = optional_integer_param(params, name, low=low, high=high)
    return default if value is None else value


def optional_integer_param(params: Mapping[str, str], name: str, *, low: int, high: int) -> int | None:
    """``name`` as an integer in ``low..high``, or None when absent; anything else is a 400 naming it."""
    raw = params.get(name)
    if raw is None:
        return None
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 20 else None
    if value is None or not low <= value <= high:
        raise InvalidRequestError(f"{name}: must be an integer between {low} and {high}")
    return value
