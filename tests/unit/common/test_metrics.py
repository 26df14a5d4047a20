"""The ``model`` label shared by the gateway's and the orchestrator's metrics: capped, and never a model string that
did not route."""

from __future__ import annotations

from switchboard.common.metrics import OTHER, ModelLabels


def test_models_past_the_cap_collapse_to_other() -> None:
    labels = ModelLabels(cap=3)
    assert [labels.label(f"m{n}", routed=True) for n in range(5)] == ["m0", "m1", "m2", OTHER, OTHER]
    assert labels.label("m1", routed=True) == "m1", "a known model keeps its label"
    assert labels.label("m4", routed=True) == OTHER, "the cap holds for good"


def test_a_model_that_did_not_route_never_becomes_a_label() -> None:
    labels = ModelLabels(cap=3)
    assert labels.label("typo-model", routed=False) == OTHER
    assert labels.label("real-model", routed=True) == "real-model"
    assert labels.label("real-model", routed=False) == "real-model", "a 404 later does not hide a known model"
    assert labels.label(None, routed=True) == "" and labels.label("", routed=True) == ""


def test_a_known_model_keeps_its_label_past_the_cap() -> None:
    labels = ModelLabels(cap=2)
    assert [labels.label(model, routed=True) for model in ("a", "b", "c", "a")] == ["a", "b", OTHER, "a"]


def test_routing_an_unrouted_model_later_makes_it_a_label() -> None:
    labels = ModelLabels(cap=2)
    assert labels.label("typo", routed=False) == OTHER
    assert labels.label("typo", routed=True) == "typo", "routing it later makes it a label"
    assert labels.label("", routed=True) == ""
