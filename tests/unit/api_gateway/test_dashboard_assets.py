"""The dashboard's assets: everything the page loads ships in the package, and the vendored files are the ones
recorded (name, version, hash) in the vendor README."""

from __future__ import annotations

import hashlib
import re

from switchboard.api_gateway.dashboard.routes import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"


def test_vendored_files_match_their_recorded_hashes() -> None:
    recorded = dict(re.findall(r"^\| (\S+\.js) \|.*\| ([0-9a-f]{64}) \|$", (VENDOR / "README.md").read_text(), re.M))
    shipped = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in VENDOR.glob("*.js")}
    assert shipped == recorded


def test_the_page_loads_only_files_of_the_package() -> None:
    page = (STATIC_DIR / "index.html").read_text()
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert loaded, "the page loads its scripts and styles"
    for reference in loaded:
        if reference.startswith(("#", "data:")):
            continue
        assert reference.startswith("static/"), reference
        assert (STATIC_DIR / reference.removeprefix("static/")).is_file(), reference


def test_the_scripts_import_only_each_other() -> None:
    for script in STATIC_DIR.rglob("*.js"):
        if script.parent == VENDOR:
            continue
        for target in re.findall(r'^import .* from "([^"]+)";$', script.read_text(), re.M):
            assert target.startswith("."), (script.name, target)
            assert (script.parent / target).resolve().is_file(), (script.name, target)


def test_no_inline_script_or_handler_the_content_security_policy_would_block() -> None:
    page = (STATIC_DIR / "index.html").read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert re.search(r"\son[a-z]+=", page) is None
