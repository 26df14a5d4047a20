"""SSRF guard for user-supplied base URLs: only http(s), no credentials, and no internal addresses.

Every address the host resolves to must be public: one private answer is enough to refuse, since the HTTP client
may pick any of them (and DNS rebinding would pick the worst). Literal IPs are checked without DNS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from ipaddress import IPv4Address, IPv6Address
from urllib.parse import SplitResult, urlsplit

from switchboard.common.errors import InvalidRequestError

__all__ = ["MAX_URL_LENGTH", "check_base_url", "is_forbidden_address"]

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_SECONDS = 5.0
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = IPv4Address | IPv6Address


def is_forbidden_address(ip: str | IPAddress) -> bool:
    """Whether ``ip`` is loopback, link-local, private, multicast, reserved, unspecified or otherwise not public.

    IPv6 forms that embed an IPv4 address (``::ffff:a.b.c.d``, 6to4, NAT64) are judged by that address too.
    """
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _nat64(address)
        if embedded is not None and is_forbidden_address(embedded):
            return True
        if address.is_site_local:
            return True
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _nat64(address: IPv6Address) -> IPv4Address | None:
    return IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None


async def check_base_url(url: str, *, allow_private: bool) -> None:
    """Raise ``InvalidRequestError("base_url: …")`` unless ``url`` is safe to send a provider key to."""
    parts = _parse(url)
    host = parts.hostname or ""
    if allow_private:
        return
    literal = _literal(host)
    addresses = [literal] if literal is not None else await _resolve(host, parts)
    if any(is_forbidden_address(address) for address in addresses):
        raise InvalidRequestError(
            f"base_url: host {host!r} is a loopback, link-local or private address; "
            "only public endpoints are allowed (an operator may set SWITCHBOARD_BYOK_ALLOW_PRIVATE)"
        )


def _parse(url: str) -> SplitResult:
    if len(url) > MAX_URL_LENGTH or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidRequestError(f"base_url: must be a URL of at most {MAX_URL_LENGTH} characters without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port (raises ValueError when out of range or not a number)
    except ValueError:
        raise InvalidRequestError("base_url: not a valid URL") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise InvalidRequestError("base_url: scheme must be https or http")
    if "@" in parts.netloc:
        raise InvalidRequestError("base_url: must not contain credentials (user:password@); send the key as api_key")
    if not parts.hostname:
        raise InvalidRequestError("base_url: host is missing")
    if parts.query or parts.fragment:
        raise InvalidRequestError("base_url: must not have a query or fragment")
    return parts


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _resolve(host: str, parts: SplitResult) -> list[IPAddress]:
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        raise InvalidRequestError(f"base_url: cannot resolve host {host!r}") from None
    addresses = [_literal(str(info[4][0])) for info in infos]
    if not addresses or any(address is None for address in addresses):
        raise InvalidRequestError(f"base_url: host {host!r} resolved to no usable address")
    return [address for address in addresses if address is not None]
