"""The orchestrator's model label: capped, and never a model string that did not route."""

from __future__ import annotations

from switchboard.orchestrator.metrics import OTHER, ModelLabels


def test_models_past_the_cap_collapse_to_other() -> None:
    labels = ModelLabels(cap=2)
    assert [labels.label(model, routed=True) for model in ("a", "b", "c", "a")] == ["a", "b", OTHER, "a"]


def test_an_unrouted_model_is_other_and_no_model_is_empty() -> None:
    labels = ModelLabels(cap=2)
    assert labels.label("typo", routed=False) == OTHER
    assert labels.label("typo", routed=True) == "typo", "routing it later makes it a label"
    assert labels.label("", routed=True) == ""
