"""``switchboard tap SUBJECT``: the former name of ``switchboard events tail``, kept as an alias."""

from __future__ import annotations

from switchboard.cli.events.servers import resolve_nats_url
from switchboard.cli.events.tail import TailOptions, format_json, format_message, run_tail

__all__ = ["TailOptions", "format_json", "format_message", "resolve_nats_url", "run_tail"]
