"""``switchboard docs``: regenerate the reference pages under ``docs/`` from the code they describe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from switchboard.cli.asyncapi import render_asyncapi
from switchboard.cli.config_reference import render_configuration
from switchboard.cli.events_reference import render_events

__all__ = ["GENERATED", "run_docs"]

GENERATED: dict[str, Callable[[], str]] = {
    "configuration.md": render_configuration,
    "events.md": render_events,
    "asyncapi.yaml": render_asyncapi,
}
"""File name under ``docs/`` -> the function that renders it."""


def run_docs(docs_dir: Path) -> int:
    docs_dir.mkdir(parents=True, exist_ok=True)
    for name, render in GENERATED.items():
        path = docs_dir / name
        text = render()
        changed = not path.exists() or path.read_text() != text
        path.write_text(text)
        print(f"{'wrote' if changed else 'unchanged'} {path}")
    return 0
