"""The dashboard in real headless Chromium against the real stack: the numbers are the API's, keys and provider keys
are managed, connectors go live and offline, and only administrators get the admin views. Every view is saved as
a screenshot under ``test-artifacts/dashboard/``.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import pytest
from playwright.sync_api import Page, expect

from fakes.anthropic_provider import FakeAnthropic
from fakes.keycloak import FakeKeycloak
from support.browser import screenshot
from support.connectors import NOTES_SERVER
from support.mcp_agents import MODEL, connector, mcp_routing_config
from support.processes import wait_until
from support.stack import Stack
from switchboard.cli.embedded_nats import EmbeddedNats

DASHBOARD_CLIENT = "switchboard-dashboard"
PASSWORD = "correct horse battery staple"
OVERLOADED = 529
NUMBER_FIELDS = ("requests", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@pytest.fixture(scope="module")
def dashboard_stack(
    tmp_path_factory: pytest.TempPathFactory,
    nats_server: EmbeddedNats,
    fake_anthropic: FakeAnthropic,
    keycloak: FakeKeycloak,
) -> Iterator[Stack]:
    """Gateway, orchestrator, tool-broker and metering, with Keycloak, agents, and traffic of the stack's user."""
    stack = Stack(
        workdir=tmp_path_factory.mktemp("dashboard-stack"),
        nats_url=nats_server.url,
        fake=fake_anthropic,
        keycloak=keycloak,
        routing_config=mcp_routing_config(),
        user_id=f"alice-{secrets.token_hex(3)}",
    )
    notes = None
    try:
        _outside_the_browsers_loop(stack.start)  # it runs asyncio.run, which Playwright's registered loop forbids here
        stack.add_tool_broker()
        stack.add_metering()
        keycloak.add_client(
            DASHBOARD_CLIENT, redirect_uris=[f"{stack.base_url}/dashboard/*"], web_origins=[stack.base_url]
        )
        notes = connector(stack, "notes", NOTES_SERVER)
        notes.wait_registered()
        _traffic(stack)
        notes.stop()
        yield stack
    finally:
        if notes is not None:
            notes.stop()
        stack.stop()


def _outside_the_browsers_loop(work: Callable[[], object]) -> None:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            failures.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def _traffic(stack: Stack) -> None:
    """Plain requests and an agent request whose MCP tool runs, so every figure of the usage view is non-zero."""
    with anthropic.Anthropic(base_url=stack.base_url, api_key=stack.api_key, max_retries=0) as sdk:
        for text in ("first", "second", "third"):
            sdk.messages.create(model=MODEL, max_tokens=32, messages=[{"role": "user", "content": text}])
        sdk.messages.create(
            model=MODEL,
            max_tokens=256,
            messages=[
                {"role": "user", "content": '[[fake:agent_calls=mcp__notes__add]] [[fake:tool_input={"a": 2, "b": 3}]]'}
            ],
            extra_headers={"x-switchboard-agent": "default"},
        )

    def billed() -> bool:
        try:
            return bool(_usage(stack, stack.api_key)["totals"]["requests"] >= 4)
        except httpx.HTTPStatusError as error:  # 529 until the metering replica that just started subscribes
            if error.response.status_code != OVERLOADED:
                raise
            return False

    wait_until(billed, timeout=15, what="the traffic recorded by metering")


def _usage(stack: Stack, key: str) -> dict[str, Any]:
    answer = httpx.get(f"{stack.base_url}/api/v1/usage", headers={"x-api-key": key}, timeout=10)
    answer.raise_for_status()
    usage: dict[str, Any] = answer.json()
    return usage


def sign_in_with_key(page: Page, stack: Stack, key: str, view: str = "usage") -> None:
    """By keyboard only: the key field is reachable with Tab and Enter submits."""
    page.goto(f"{stack.base_url}/dashboard/#/{view}")
    field = page.get_by_label("Switchboard API key")
    field.focus()
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_in_with_keycloak(page: Page, stack: Stack, keycloak: FakeKeycloak, user: str, view: str) -> None:
    keycloak.add_user(user, PASSWORD, user_id=user)
    page.goto(f"{stack.base_url}/dashboard/#/{view}")
    page.get_by_role("button", name="Sign in with Keycloak").click()
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#kc-login").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("#who")).to_have_text(user)
    assert "code=" not in page.url, "the authorization code is removed from the address bar"


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_usage_charts_and_tables_show_the_apis_numbers(page: Page, dashboard_stack: Stack) -> None:
    sign_in_with_key(page, dashboard_stack, dashboard_stack.api_key)
    expect(page.locator("#by-model tbody tr")).to_have_count(1)
    api = _usage(dashboard_stack, dashboard_stack.api_key)
    totals = api["totals"]
    for field in (*NUMBER_FIELDS, "tool_calls"):
        assert number(page.locator(f'[data-total="{field}"]').inner_text()) == totals[field], field
    assert totals["mcp_tool_calls"] == 1
    expect(page.locator('[data-total="mcp_success"]')).to_have_text("100.0% of 1")
    for day in api["by_day"]:
        row = page.locator(f'#by-day tr[data-day="{day["key"]}"]')
        assert [number(row.locator(f'[data-field="{f}"]').inner_text()) for f in NUMBER_FIELDS] == [
            day[f] for f in NUMBER_FIELDS
        ]
    (model,) = api["by_model"]
    row = page.locator(f'#by-model tr[data-model="{model["key"]}"]')
    assert [number(row.locator(f'[data-field="{f}"]').inner_text()) for f in NUMBER_FIELDS] == [
        model[f] for f in NUMBER_FIELDS
    ]
    charted = {chart: _chart_data(page, chart) for chart in ("tokens-chart", "requests-chart", "models-chart")}
    used = {day["key"]: day for day in api["by_day"]}
    labels, tokens = charted["tokens-chart"]
    assert tokens["Input"] == [used[day]["input_tokens"] if day in used else 0 for day in labels]
    assert tokens["Output"] == [used[day]["output_tokens"] if day in used else 0 for day in labels]
    assert tokens["Cache reads"] == [used[day]["cache_read_input_tokens"] if day in used else 0 for day in labels]
    assert charted["requests-chart"][1]["Requests"] == [used[day]["requests"] if day in used else 0 for day in labels]
    assert labels[0] == api["start"] and labels[-1] == api["end"] and len(labels) == 30
    assert charted["models-chart"] == ([model["key"]], {"Tokens": [model["input_tokens"] + model["output_tokens"]]})
    screenshot(page, "usage")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    total = next(row for row in rows if row["section"] == "total")
    assert {field: int(total[field]) for field in NUMBER_FIELDS} == {field: totals[field] for field in NUMBER_FIELDS}
    assert [row["key"] for row in rows if row["section"] == "day"] == [day["key"] for day in api["by_day"]]


def test_a_date_range_without_usage_shows_none(page: Page, dashboard_stack: Stack) -> None:
    sign_in_with_key(page, dashboard_stack, dashboard_stack.api_key)
    page.get_by_label("From", exact=True).fill("2024-01-01")
    page.get_by_label("To", exact=True).fill("2024-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No usage in this range.")).to_be_visible()
    expect(page.locator('[data-total="requests"]')).to_have_text("0")
    expect(page.get_by_role("button", name="Export CSV")).to_be_disabled()


def test_a_key_is_shown_once_works_and_stops_working_once_revoked(
    page: Page, dashboard_stack: Stack, keycloak: FakeKeycloak
) -> None:
    user = f"dana-{secrets.token_hex(3)}"
    sign_in_with_keycloak(page, dashboard_stack, keycloak, user, "keys")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog", name="Your new API key")
    expect(dialog).to_be_visible()
    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("sk-")
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_role("status")).not_to_be_empty()
    screenshot(page, "keys-new-secret")
    assert _message(dashboard_stack, secret).status_code == 200
    dialog.get_by_role("button", name="Done").click()
    expect(page.locator("#new-secret")).to_have_text("")
    assert secret not in page.content(), "the secret is shown once, then forgotten"
    expect(page.locator("#keys tbody tr")).to_have_count(1)
    screenshot(page, "keys")

    page.get_by_role("button", name="Revoke laptop").click()
    confirm = page.get_by_role("dialog", name='Revoke "laptop"?')
    expect(confirm).to_be_visible()
    screenshot(page, "keys-confirm-revoke")
    confirm.get_by_role("button", name="Revoke key").click()
    expect(page.locator("#keys tbody tr")).to_have_count(0)

    def refused() -> bool:
        return _message(dashboard_stack, secret).status_code == 401

    wait_until(refused, timeout=5, what="the revoked key refused")


def test_provider_keys_are_added_replaced_and_removed_showing_only_the_last_four(
    page: Page, dashboard_stack: Stack, keycloak: FakeKeycloak
) -> None:
    sign_in_with_keycloak(page, dashboard_stack, keycloak, f"erin-{secrets.token_hex(3)}", "keys")
    first, second = (
        "sk-ant-users-own-" + secrets.token_hex(8) + "WXYZ",
        "sk-ant-users-new-" + secrets.token_hex(8) + "QRST",
    )
    page.get_by_label("Provider", exact=True).fill("anthropic")
    page.get_by_label("API key", exact=True).fill(first)
    page.get_by_role("button", name="Save provider key").click()
    row = page.locator('#byok tr[data-provider="anthropic"]')
    expect(row).to_contain_text("…WXYZ")
    page.get_by_role("button", name="Replace").click()
    page.get_by_label("API key", exact=True).fill(second)
    page.get_by_role("button", name="Save provider key").click()
    expect(row).to_contain_text("…QRST")
    html = page.content()
    assert first not in html and second not in html and first[:-4] not in html
    screenshot(page, "keys-byok")
    row.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove key").click()
    expect(row).to_have_count(0)


def test_a_connector_goes_live_then_offline(page: Page, dashboard_stack: Stack) -> None:
    server_id = f"live-{secrets.token_hex(3)}"
    sign_in_with_key(page, dashboard_stack, dashboard_stack.api_key, "connectors")
    expect(page.locator("#connect-command")).to_have_value(
        re.compile(r"switchboard connect --url " + re.escape(dashboard_stack.base_url))
    )
    process = connector(dashboard_stack, server_id, NOTES_SERVER)
    try:
        row = page.locator(f'#servers tr[data-server="{server_id}"]')
        expect(row.locator('[data-field="status"]')).to_have_text("Live", timeout=15_000)
        expect(row).to_contain_text("WebSocket")
        row.get_by_text(re.compile(r"\d+ tools?")).click()
        expect(row).to_contain_text("add")
        screenshot(page, "connectors-live")
    finally:
        process.stop()
    expect(row.locator('[data-field="status"]')).to_have_text("Offline", timeout=15_000)
    screenshot(page, "connectors-offline")


def test_an_ordinary_user_is_refused_the_admin_views(page: Page, dashboard_stack: Stack) -> None:
    sign_in_with_key(page, dashboard_stack, dashboard_stack.api_key)
    expect(page.get_by_role("link", name="Admin")).to_be_hidden()
    page.goto(f"{dashboard_stack.base_url}/dashboard/#/admin")
    expect(page.locator("#admin-error")).to_contain_text("Administrators only")
    expect(page.locator("#users")).to_have_count(0)
    screenshot(page, "admin-refused")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Switchboard API key")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0, "signing out forgets the key"
    page.reload()
    expect(page.get_by_label("Switchboard API key")).to_be_visible()
    refused = httpx.get(f"{dashboard_stack.base_url}/api/v1/users", headers={"x-api-key": dashboard_stack.api_key})
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_error"


def test_an_administrator_sees_users_limits_audit_and_metering(page: Page, dashboard_stack: Stack) -> None:
    user = dashboard_stack.user_id
    sign_in_with_key(page, dashboard_stack, dashboard_stack.admin_key, "admin")
    expect(page.locator(f'#users tr[data-user="{user}"]')).to_be_visible()
    page.get_by_role("button", name=f"Rate limits of {user}").click()
    expect(page.locator("#rate-limits")).to_be_visible()
    page.get_by_label("User", exact=True).fill(user)
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit tbody tr")
    expect(rows.first).to_be_visible()
    assert set(rows.locator("td:nth-child(2)").all_inner_texts()) == {user}
    expect(page.locator('#metering [data-field="lago"]')).to_have_text("not configured")
    screenshot(page, "admin")


def test_a_phone_gets_one_column_without_sideways_scrolling(phone: Page, dashboard_stack: Stack) -> None:
    sign_in_with_key(phone, dashboard_stack, dashboard_stack.api_key)
    expect(phone.locator('[data-total="requests"]')).not_to_have_text("0")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "usage-phone")


def test_every_field_has_a_label_and_the_page_needs_no_other_site(page: Page, dashboard_stack: Stack) -> None:
    outside: list[str] = []
    page.on(
        "request",
        lambda request: outside.append(request.url) if not request.url.startswith(dashboard_stack.base_url) else None,
    )
    sign_in_with_key(page, dashboard_stack, dashboard_stack.admin_key)
    for view in ("usage", "keys", "connectors", "admin"):
        page.goto(f"{dashboard_stack.base_url}/dashboard/#/{view}")
        page.wait_for_load_state("networkidle")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, textarea, select')]
                 .filter(field => field.type !== 'hidden' && field.labels.length === 0)
                 .filter(field => !field.getAttribute('aria-label'))
                 .map(field => field.id || field.outerHTML)"""
        )
        assert unlabelled == [], (view, unlabelled)
    assert outside == [], "assets come from the gateway itself (no CDN)"
    policy = httpx.get(f"{dashboard_stack.base_url}/dashboard/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy


def _chart_data(page: Page, canvas: str) -> tuple[list[str], dict[str, list[int]]]:
    """What Chart.js draws on ``canvas``: its labels and each dataset's numbers."""
    labels, datasets = page.locator(f"#{canvas}").evaluate(
        """canvas => {
            const chart = window.Chart.getChart(canvas);
            return [chart.data.labels, Object.fromEntries(chart.data.datasets.map(set => [set.label, set.data]))];
        }"""
    )
    return list(labels), dict(datasets)


def _message(stack: Stack, key: str) -> httpx.Response:
    return httpx.post(
        f"{stack.base_url}/v1/messages",
        json={"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
        timeout=30,
    )
