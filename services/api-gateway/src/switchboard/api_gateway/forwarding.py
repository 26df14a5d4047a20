"""Which client headers travel to the provider: all of them (an open set), minus credentials and hop-by-hop."""

from __future__ import annotations

from starlette.datastructures import Headers

__all__ = ["forwardable_headers"]

_NEVER_FORWARDED = frozenset(
    {
        "authorization",
        "x-api-key",
        "cookie",
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "accept-encoding",
        "proxy-authorization",
        "proxy-connection",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
    }
)


def forwardable_headers(headers: Headers) -> dict[str, str]:
    """Lower-cased headers to forward; repeated headers (e.g. ``anthropic-beta``) are joined with ``,``."""
    forwarded: dict[str, str] = {}
    for name, value in headers.items():
        if name in _NEVER_FORWARDED:
            continue
        forwarded[name] = f"{forwarded[name]},{value}" if name in forwarded else value
    return forwarded
