"""deploy/grafana/switchboard.json: a dashboard Grafana imports, querying only the metrics the services export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import ROOT

# Every metric the services export, with its labels. A rename in the code must show up here and in the dashboard.
METRICS: dict[str, set[str]] = {
    "switchboard_gateway_requests_total": {"route", "model", "status"},
    "switchboard_gateway_errors_total": {"route", "error_type"},
    "switchboard_gateway_request_duration_seconds_bucket": {"route", "model", "le"},
    "switchboard_gateway_time_to_first_token_seconds_bucket": {"route", "model", "le"},
    "switchboard_gateway_inflight_streams": set(),
    "switchboard_gateway_rate_limited_total": {"tier"},
    "switchboard_nats_rtt_seconds": {"service"},
    "switchboard_orchestrator_requests_total": {"provider", "model", "outcome"},
    "switchboard_orchestrator_upstream_duration_seconds_bucket": {"provider", "le"},
    "switchboard_orchestrator_inflight_requests": set(),
    "switchboard_tool_calls_total": {"service", "outcome"},
    "switchboard_tool_call_duration_seconds_bucket": {"service", "le"},
    "switchboard_tool_broker_connectors": {"transport"},
    "switchboard_metering_pending_events": set(),
    "switchboard_metering_billed_events_total": set(),
    "switchboard_metering_delivery_failures_total": {"reason"},
    "switchboard_metering_delivery_lag_seconds_bucket": {"le"},
    "switchboard_metering_dead_letters": set(),
}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless"}
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"\{([^}]*)\}")


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "deploy" / "grafana" / "switchboard.json").read_text())
    return loaded


def walk_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def expressions(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in walk_panels(dashboard["panels"]) for target in panel.get("targets", [])]


def series_names(expression: str) -> set[str]:
    """Identifiers that name series: what is left after strings, selectors, ranges, groupings and function calls."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', "", expression)
    stripped = GROUPING.sub("", SELECTOR.sub("", re.sub(r"\[[^\]]*\]", "", stripped)))
    identifiers = re.findall(r"(?<![\w.])([A-Za-z_:][\w:]*)(?![\w:]|\s*\()", stripped)
    return set(identifiers) - PROMQL_KEYWORDS


def labels_used(expression: str) -> set[str]:
    grouped = {label.strip() for group in GROUPING.findall(expression) for label in group.split(",")}
    matched = {
        match.split("=")[0].rstrip("!~").strip() for body in SELECTOR.findall(expression) for match in body.split(",")
    }
    return {label for label in grouped | matched if label}


def test_the_dashboard_imports_on_current_grafana(dashboard: dict[str, Any]) -> None:
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["uid"] == "switchboard"
    ids = [panel["id"] for panel in walk_panels(dashboard["panels"])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_every_query_uses_the_datasource_variable_not_a_fixed_uid(dashboard: dict[str, Any]) -> None:
    text = json.dumps(dashboard)
    assert set(re.findall(r'"uid": "([^"]*)"', text)) == {"switchboard", "${datasource}"}
    for panel in walk_panels(dashboard["panels"]):
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], f"panel {panel['title']!r} has no query"


def test_queries_use_only_exported_metrics_and_their_labels(dashboard: dict[str, Any]) -> None:
    for expression in expressions(dashboard):
        names = series_names(expression)
        assert names, f"no metric in {expression!r}"
        assert names <= set(METRICS), f"unknown metric in {expression!r}"
        allowed = set().union(*(METRICS[name] for name in names))
        assert labels_used(expression) <= allowed, f"unknown label in {expression!r}"


def test_every_exported_metric_has_a_panel(dashboard: dict[str, Any]) -> None:
    used = set().union(*(series_names(expression) for expression in expressions(dashboard)))
    assert used == set(METRICS)


def test_the_query_parser_sees_metric_names_and_labels() -> None:
    expression = 'histogram_quantile(0.99, sum by (le, route) (rate(foo_seconds_bucket{status=~"5.."}[5m]))) / bar'
    assert series_names(expression) == {"foo_seconds_bucket", "bar"}
    assert labels_used(expression) == {"le", "route", "status"}
