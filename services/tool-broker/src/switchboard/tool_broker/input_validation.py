"""Checks a tool call's input against the tool's JSON Schema before it is dispatched.

A connector may register any schema; one that is not a valid JSON Schema (or refers to documents we cannot
resolve) must not break calls, so such a tool accepts any input and the problem is logged once.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from jsonschema import SchemaError, ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

__all__ = ["InputValidator"]

logger = logging.getLogger(__name__)

_CACHE_SIZE = 1024


class InputValidator:
    """Compiled validators, cached by schema (tools of many users often share one)."""

    def __init__(self, cache_size: int = _CACHE_SIZE) -> None:
        self._cache: OrderedDict[str, Validator | None] = OrderedDict()
        self._cache_size = cache_size

    def problem(self, schema: dict[str, object], value: Mapping[str, Any]) -> str | None:
        """What is wrong with ``value`` (``at $.path: message``), or ``None`` when it satisfies ``schema``."""
        validator = self._validator(schema)
        if validator is None:
            return None
        try:
            error = best_match(validator.iter_errors(value))
        except Exception:  # a schema that breaks while validating accepts anything, as documented
            logger.warning("a tool's input schema failed while validating; the input is accepted", exc_info=True)
            return None
        if error is None:
            return None
        return f"at {_json_path(error)}: {error.message}"

    def _validator(self, schema: dict[str, object]) -> Validator | None:
        key = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        validator = _compile(schema)
        self._cache[key] = validator
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return validator


def _compile(schema: dict[str, object]) -> Validator | None:
    try:
        cls = validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)
    except (SchemaError, ValidationError, TypeError, ValueError) as exc:
        logger.warning("a tool registered an invalid input schema (%s); it accepts any input", _first_line(exc))
        return None


def _json_path(error: ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
