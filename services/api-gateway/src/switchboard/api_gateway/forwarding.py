"""Which client headers travel to the provider: all of them (an open set), minus credentials and hop-by-hop."""

from __future__ import annotations

from starlette.datastructures import Headers

from switchboard.common.headers import NEVER_FORWARDED

__all__ = ["forwardable_headers"]


def forwardable_headers(headers: Headers) -> dict[str, str]:
    """Lower-cased headers to forward; repeated headers (e.g. ``anthropic-beta``) are joined with ``,``."""
    forwarded: dict[str, str] = {}
    for name, value in headers.items():
        if name in NEVER_FORWARDED:
            continue
        forwarded[name] = f"{forwarded[name]},{value}" if name in forwarded else value
    return forwarded
