"""Headless Chromium for the dashboard's browser tests: a session-wide `browser`, a fresh desktop `page` or `phone`
page per test, and a screenshot of the page when a test fails.

Tests here are synchronous (Playwright's sync API). Playwright's event loop is registered as the thread's running
loop only during the setup, call and teardown of tests that use the browser (see `support.browser`), so async tests
and fixtures elsewhere in the session keep working; a test that uses the browser cannot also use async fixtures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator
from contextlib import nullcontext
from typing import Any

import pytest
from playwright.sync_api import Browser, Error, Page

from support.browser import DESKTOP, PHONE, BrowserSession, ensure_chromium, screenshot

_SESSION = pytest.StashKey[BrowserSession]()
_FAILED = pytest.StashKey[bool]()
_TIMEOUT_MS = 15_000  # well inside pytest-timeout's 60 s, so a stuck wait fails with Playwright's message and a picture


def _uses_browser(item: pytest.Item) -> bool:
    return "browser" in getattr(item, "fixturenames", ())


def _playwright_phase(item: pytest.Item) -> Any:
    session = item.config.stash.get(_SESSION, None)
    return session.active() if session is not None and _uses_browser(item) else nullcontext()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    previous = asyncio._get_running_loop()
    with _playwright_phase(item):
        try:
            return (yield)
        finally:  # the session may have started (and registered its loop) during this phase
            asyncio._set_running_loop(previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with _playwright_phase(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    with _playwright_phase(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """One headless Chromium (Debian's) for the whole session."""
    session = BrowserSession(ensure_chromium())
    request.config.stash[_SESSION] = session
    session.activate()  # the rest of this setup phase drives the browser; the phase hook unregisters it after
    try:
        yield session.browser
    finally:
        del request.config.stash[_SESSION]
        session.close()


def _page(browser: Browser, request: pytest.FixtureRequest, options: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(**options)
    context.set_default_timeout(_TIMEOUT_MS)
    try:
        page = context.new_page()
        yield page
        if request.node.stash.get(_FAILED, False):
            try:
                print(f"screenshot of the failed test: {screenshot(page, f'failed/{request.node.name}')}")
            except Error as error:  # a crashed or closed page: the test's own failure is what matters
                print(f"no screenshot of the failed test: {error}")
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context: 1280x800, en-US, UTC; screenshotted to ``test-artifacts/dashboard/failed/``
    if the test fails."""
    yield from _page(browser, request, DESKTOP)


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Like `page`, on a 390x844 touch screen (``is_mobile``)."""
    yield from _page(browser, request, PHONE)
