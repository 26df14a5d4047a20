"""Which HTTP request headers never travel from a client towards a provider."""

from __future__ import annotations

__all__ = ["NEVER_FORWARDED"]

NEVER_FORWARDED = frozenset(
    {
        # the client's credential for Switchboard, never the provider's business
        "authorization",
        "x-api-key",
        "cookie",
        "proxy-authorization",
        # framing and connection management, owned by each HTTP hop
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "accept-encoding",
        # the client's network path, which a provider has no need to see
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
        # W3C trace context: each hop sends its own span as the parent (the client's trace continues through ours)
        "traceparent",
        "tracestate",
    }
)
"""Every other header is forwarded unchanged: ``anthropic-*`` and custom headers are an open set."""
