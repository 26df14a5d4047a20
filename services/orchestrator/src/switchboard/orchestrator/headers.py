"""Which headers cross the orchestrator: to the provider (all forwarded ones but credentials and our own) and back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import SecretStr

from switchboard.common.headers import NEVER_FORWARDED
from switchboard.common.tracing import trace_headers

__all__ = ["PASSED_RESPONSE_HEADERS", "response_headers", "upstream_request_headers"]

PASSED_RESPONSE_HEADERS = frozenset({"retry-after", "retry-after-ms", "x-should-retry"})
"""Upstream response headers the gateway may show the client: only retry advice. Rate-limit and
organisation headers describe *our* upstream account, not the client's, so they stay here."""

# The gateway already strips these; dropping them again keeps a client credential from ever reaching a provider
# and lets the HTTP client own framing. ``anthropic-version`` is set from the request's own field below.
_NEVER_FORWARDED = NEVER_FORWARDED | {"anthropic-version"}
_OWN_PREFIX = "x-switchboard-"
"""Our own request headers (``x-switchboard-agent``…): they steer Switchboard and mean nothing to a provider."""


def upstream_request_headers(
    forwarded: Mapping[str, str], *, api_version: str, api_key: SecretStr | None
) -> dict[str, str]:
    """Client headers (``anthropic-beta`` and every other one but ``x-switchboard-*``, unchanged) plus ours.

    Ours include the current span's ``traceparent``: the provider's side of the call joins the request's trace.
    """
    headers = {name.lower(): value for name, value in forwarded.items() if _forwarded(name.lower())}
    headers["content-type"] = "application/json"
    headers["anthropic-version"] = api_version
    if api_key is not None:
        headers["x-api-key"] = api_key.get_secret_value()
    headers.update(trace_headers())
    return headers


def _forwarded(name: str) -> bool:
    return name not in _NEVER_FORWARDED and not name.startswith(_OWN_PREFIX)


def response_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """The allowlisted subset of an upstream response's headers, names lower-cased."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name.lower(): value for name, value in items if name.lower() in PASSED_RESPONSE_HEADERS}
