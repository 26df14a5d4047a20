"""Headless Chromium for browser tests: Debian's Chromium, a Playwright session that coexists with pytest-asyncio,
and full-page screenshots under ``test-artifacts/dashboard/``.

Playwright's sync API drives its own event loop from a greenlet and, between two calls, leaves that loop registered
as the thread's *running* loop (``wait_for_future`` in ``playwright/_impl/_greenlets.py``). Left like that, every
later ``asyncio.run`` or pytest-asyncio test in the session fails with "cannot be called from a running event loop".
`BrowserSession` therefore keeps the registration only inside `active()`, which the browser tests' conftest holds
around the setup, call and teardown of each test that uses the browser.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright, sync_playwright

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "DESKTOP",
    "PHONE",
    "BrowserSession",
    "ensure_chromium",
    "screenshot",
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
_LOCK = ROOT / ".cache" / "chromium-install.lock"

# Reduced motion: pages that honour it (the dashboard's charts do) are drawn at once, so screenshots are final.
_COMMON: dict[str, Any] = {"locale": "en-US", "timezone_id": "UTC", "reduced_motion": "reduce"}
DESKTOP: dict[str, Any] = {**_COMMON, "viewport": {"width": 1280, "height": 800}}
"""`Browser.new_context` options of the `page` fixture."""
PHONE: dict[str, Any] = {**_COMMON, "viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                         "device_scale_factor": 3}  # fmt: skip
"""`Browser.new_context` options of the `phone` fixture: an iPhone-sized touch screen."""


def ensure_chromium() -> Path:
    """Debian's Chromium; installed with apt-get (once, under a lock shared by parallel workers) when root can."""
    if _runnable(CHROMIUM):
        return CHROMIUM
    apt_get = shutil.which("apt-get")
    if apt_get is None or os.geteuid() != 0:
        raise RuntimeError(
            f"browser tests need Chromium at {CHROMIUM}: install Debian's package with "
            "`sudo apt-get update && sudo apt-get install --yes --no-install-recommends chromium`"
        )
    _LOCK.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker installs; the others wait, then find it there
        if not _runnable(CHROMIUM):
            noninteractive = ["env", "DEBIAN_FRONTEND=noninteractive", apt_get, "--quiet", "--yes"]
            subprocess.run([*noninteractive, "update"], check=True, timeout=600, capture_output=True)
            install = [*noninteractive, "install", "--no-install-recommends", "chromium"]
            subprocess.run(install, check=True, timeout=1200, capture_output=True)
    if not _runnable(CHROMIUM):
        raise RuntimeError(f"apt-get installed the chromium package but {CHROMIUM} is still missing")
    return CHROMIUM


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as ``test-artifacts/dashboard/<name>.png`` (``/`` in `name` makes subdirectories)."""
    parts = [re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip("-.") or "_" for part in name.split("/")]
    path = ARTIFACTS.joinpath(*parts[:-1], f"{parts[-1]}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


class BrowserSession:
    """Playwright (sync API) and one headless Chromium, usable only inside `active()`."""

    def __init__(self, executable: Path) -> None:
        previous = asyncio._get_running_loop()
        self._manager = sync_playwright()
        self._playwright: Playwright = self._manager.start()
        loop = asyncio._get_running_loop()
        if loop is None or loop is previous:
            self._manager.__exit__()
            raise RuntimeError("Playwright did not register its event loop: the coexistence with asyncio needs review")
        self._loop = loop
        try:
            self.browser: Browser = self._playwright.chromium.launch(
                executable_path=str(executable), headless=True, args=["--no-sandbox"]
            )
        except BaseException:
            self._manager.__exit__()
            raise
        finally:
            asyncio._set_running_loop(previous)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Register Playwright's loop as this thread's running loop for the duration (Playwright calls need it)."""
        previous = asyncio._get_running_loop()
        asyncio._set_running_loop(self._loop)
        try:
            yield
        finally:
            asyncio._set_running_loop(previous)

    def activate(self) -> None:
        """`active()` without the way back: for the rest of a test phase whose end restores the thread's state."""
        asyncio._set_running_loop(self._loop)

    def close(self) -> None:
        with self.active():
            try:
                self.browser.close()
            finally:
                self._manager.__exit__()
