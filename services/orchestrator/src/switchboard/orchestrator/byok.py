"""Bring your own key: a request carrying the caller's own provider key is served with it instead of ours.

The gateway stores keys encrypted (Fernet under ``SWITCHBOARD_BYOK_KEYS``) and passes the ciphertext in
``ExecuteRequest.byok``; only here is it opened, at call time, into a per-request copy of the routed provider that
shares the replica's connection pool. Routes decide the provider; a key named for no configured provider is the
user's own OpenAI-compatible provider, serving ``"<provider>/<model>"`` names no route matches (``listed_routes``).
A user's base URL is checked against SSRF again at use time (DNS may have changed since it was stored).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import re
import socket
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv6Address
from urllib.parse import urlsplit

import aiohttp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from switchboard.common.byok import BYOK_DEFAULT_BASE_URLS
from switchboard.common.errors import ApiError, InvalidRequestError
from switchboard.common.events import ByokCredential
from switchboard.orchestrator.providers.anthropic import AnthropicProvider
from switchboard.orchestrator.providers.base import Provider
from switchboard.orchestrator.providers.openai_compatible import OpenAICompatibleProvider
from switchboard.orchestrator.route_config import ProviderSpec
from switchboard.orchestrator.translation.anthropic_openai.signatures import ThinkingSigner

__all__ = ["ByokProviders", "check_base_url", "is_forbidden_address", "master_keys"]

logger = logging.getLogger(__name__)

RESOLVE_TIMEOUT_SECONDS = 5.0
_KEY_CHARS = re.compile(r"^[\x21-\x7e]{8,4096}$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def master_keys(value: SecretStr | None) -> MultiFernet | None:
    """The Fernet keys of ``SWITCHBOARD_BYOK_KEYS``, first = current (a bad entry is named by position, not value)."""
    entries = [part.strip() for part in value.get_secret_value().split(",")] if value is not None else []
    if not any(entries):
        return None
    fernets: list[Fernet] = []
    for index, entry in enumerate(entries, start=1):
        try:
            fernets.append(Fernet(entry))
        except ValueError:
            raise ValueError(f"SWITCHBOARD_BYOK_KEYS: entry {index} is not a Fernet key") from None
    return MultiFernet(fernets)


class ByokProviders:
    """Builds the provider that serves one attempt with the caller's own key (never cached: no plaintext kept)."""

    def __init__(
        self,
        specs: Mapping[str, ProviderSpec],
        client: aiohttp.ClientSession,
        timeout: aiohttp.ClientTimeout,
        signer: ThinkingSigner,
        keys: MultiFernet | None,
        *,
        allow_private: bool,
    ) -> None:
        self._specs = specs
        self._client = client
        self._timeout = timeout
        self._signer = signer
        self._keys = keys
        self._allow_private = allow_private

    async def provider_for(self, name: str, credential: ByokCredential) -> Provider | None:
        """Provider ``name`` with the user's key (and base URL); ``None`` when it takes no key (demo).

        A name no configured provider has is the user's own OpenAI-compatible provider.
        """
        spec = self._specs.get(name) or _own_spec(name, credential)
        if spec.type == "demo":
            return None
        base_url = spec.base_url
        if credential.base_url is not None:
            await check_base_url(credential.base_url, allow_private=self._allow_private)
            base_url = credential.base_url.rstrip("/")
        own = dataclasses.replace(spec, api_key=self._open(name, credential.ciphertext), base_url=base_url)
        if own.type == "anthropic":
            return AnthropicProvider(own, self._client, self._timeout)
        return OpenAICompatibleProvider(own, self._client, self._timeout, self._signer)

    def _open(self, name: str, ciphertext: str) -> SecretStr:
        if self._keys is None:
            logger.warning("a request carries a BYOK key for %s but SWITCHBOARD_BYOK_KEYS is not set", name)
            raise ApiError(f"your own key for provider {name} cannot be used: BYOK is not configured here")
        try:
            plain = self._keys.decrypt(ciphertext.encode()).decode("ascii")
        except (InvalidToken, UnicodeError):
            logger.warning("a BYOK key for %s does not decrypt with SWITCHBOARD_BYOK_KEYS", name)
            raise ApiError(f"your stored key for provider {name} cannot be decrypted; store it again") from None
        if _KEY_CHARS.fullmatch(plain) is None:
            raise InvalidRequestError(f"your stored key for provider {name} is not a valid API key; store it again")
        return SecretStr(plain)


def _own_spec(name: str, credential: ByokCredential) -> ProviderSpec:
    base_url = credential.base_url or BYOK_DEFAULT_BASE_URLS.get(name)
    if base_url is None:
        raise InvalidRequestError(f"your key for provider {name} has no base_url; store it again with one")
    return ProviderSpec(name, "openai", base_url.rstrip("/"))


def is_forbidden_address(address: IPv4Address | IPv6Address) -> bool:
    """Loopback, link-local, private, multicast, reserved, unspecified or not public (IPv4 inside IPv6 too)."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        embedded = embedded or (IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None)
        if address.is_site_local or (embedded is not None and is_forbidden_address(embedded)):
            return True
    return (
        address.is_loopback or address.is_link_local or address.is_private or address.is_multicast
        or address.is_reserved or address.is_unspecified or not address.is_global
    )  # fmt: skip


async def check_base_url(url: str, *, allow_private: bool) -> None:
    """Refuse a base URL the user's key must not be sent to (the gateway checked it too, when it was stored)."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        raise InvalidRequestError("base_url: not a valid URL") from None
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        raise InvalidRequestError("base_url: must be an http(s) URL with a host and no credentials")
    if allow_private:
        return
    if any(is_forbidden_address(address) for address in await _addresses(host, port)):
        raise InvalidRequestError(
            f"base_url: host {host!r} is a loopback, link-local or private address; only public endpoints are allowed"
        )


async def _addresses(host: str, port: int) -> list[IPv4Address | IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(info[4][0])) for info in infos]
    except (OSError, TimeoutError, UnicodeError, ValueError):
        raise InvalidRequestError(f"base_url: cannot resolve host {host!r}") from None
    if not addresses:
        raise InvalidRequestError(f"base_url: cannot resolve host {host!r}")
    return addresses
