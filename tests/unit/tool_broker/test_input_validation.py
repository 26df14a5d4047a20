"""Tool input against the tool's JSON Schema: precise problems, and broken schemas that accept anything."""

from __future__ import annotations

import logging

import pytest

from switchboard.tool_broker.input_validation import InputValidator

SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "path": {"type": "string"},
        "lines": {"type": "array", "items": {"type": "integer"}},
    },
    "required": ["path"],
    "additionalProperties": False,
}


def test_valid_input_has_no_problem() -> None:
    assert InputValidator().problem(SCHEMA, {"path": "notes.txt", "lines": [1, 2]}) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, "at $: 'path' is a required property"),
        ({"path": 3}, "at $.path: 3 is not of type 'string'"),
        ({"path": "x", "lines": [1, "two"]}, "at $.lines[1]: 'two' is not of type 'integer'"),
        ({"path": "x", "extra": 1}, "at $: Additional properties are not allowed ('extra' was unexpected)"),
    ],
)
def test_problems_name_the_json_path(value: dict[str, object], problem: str) -> None:
    assert InputValidator().problem(SCHEMA, value) == problem


def test_an_invalid_schema_accepts_anything_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    validator = InputValidator()
    broken: dict[str, object] = {"type": "no-such-type"}
    with caplog.at_level(logging.WARNING):
        assert validator.problem(broken, {"a": 1}) is None
        assert validator.problem(broken, {"b": 2}) is None
    assert len([r for r in caplog.records if "invalid input schema" in r.getMessage()]) == 1


def test_an_unresolvable_reference_accepts_anything() -> None:
    schema: dict[str, object] = {"$ref": "https://example.invalid/schema.json"}
    assert InputValidator().problem(schema, {"a": 1}) is None


def test_the_cache_is_bounded() -> None:
    validator = InputValidator(cache_size=2)
    for n in range(5):
        assert validator.problem({"type": "object", "maxProperties": n}, {}) is None
    assert len(validator._cache) == 2
