"""What ``switchboard connect`` runs with: its arguments, the environment it falls back on, and how they combine."""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.cli.connect.arguments import DEFAULT_URL
from switchboard.cli.connect.errors import InvalidOptionsError
from switchboard.common.mcp_protocol import MAX_POLL_WAIT_SECONDS

__all__ = ["ConnectOptions", "ConnectSettings", "resolve_options", "server_id_from_name"]

SERVER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NOT_IN_SERVER_ID = re.compile(r"[^A-Za-z0-9_-]+")


class ConnectSettings(BaseSettings):
    """The connector (`switchboard connect`) on the user's machine: where the gateway is, the key. Flags win."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    switchboard_api_key: SecretStr | None = Field(
        None, validation_alias="SWITCHBOARD_API_KEY", description="API key the connector authenticates with."
    )
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias="ANTHROPIC_API_KEY", description="Used as the key when `SWITCHBOARD_API_KEY` is unset."
    )
    anthropic_auth_token: SecretStr | None = Field(
        None,
        validation_alias="ANTHROPIC_AUTH_TOKEN",
        description="Used as the key when neither `SWITCHBOARD_API_KEY` nor `ANTHROPIC_API_KEY` is set.",
    )
    log_level: str = Field(
        "INFO", validation_alias="SWITCHBOARD_LOG_LEVEL", description="Python logging level name; `-v` means DEBUG."
    )
    anthropic_base_url: str | None = Field(
        None,
        validation_alias="ANTHROPIC_BASE_URL",
        description=f"Switchboard's base URL (the one Claude Code uses); `{DEFAULT_URL}` when unset.",
    )

    def key(self) -> str | None:
        """The first key that is set and not empty."""
        for secret in (self.switchboard_api_key, self.anthropic_api_key, self.anthropic_auth_token):
            if secret is not None and secret.get_secret_value().strip():
                return secret.get_secret_value().strip()
        return None


@dataclass(frozen=True)
class ConnectOptions:
    """Everything a connector runs with, resolved and checked (the key is kept out of ``repr``)."""

    url: str
    """Switchboard's base URL, without a trailing slash."""
    key: str = field(repr=False)
    command: tuple[str, ...]
    """The MCP server to start: executable, then its arguments."""
    server_id: str | None = None
    """``None``: the MCP server's own name (see :func:`server_id_from_name`)."""
    poll: bool = False
    poll_wait: float = 20.0
    tool_timeout: float = 60.0
    max_concurrency: int = 8
    log_level: str = "INFO"
    server_env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """Extra environment variables for the MCP server (``--env``); values may be secrets."""

    @property
    def display_url(self) -> str:
        """The URL without any user:password in it, for logs."""
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))

    def http_url(self, path: str) -> str:
        return self.url + path

    def websocket_url(self, path: str) -> str:
        return re.sub(r"^http", "ws", self.url) + path


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _url(value: str) -> str:
    try:
        parsed = urlsplit(value.strip())
        parsed.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as exc:
        raise InvalidOptionsError(f"--url {value!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidOptionsError(f"--url {value!r} must be an http:// or https:// URL")
    return urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidOptionsError(message)


def resolve_options(args: argparse.Namespace, settings: ConnectSettings | None = None) -> ConnectOptions:
    """Flags first, then the environment (read through :class:`ConnectSettings`), then the defaults."""
    settings = settings if settings is not None else ConnectSettings()
    command = list(args.server_command)
    if command[:1] == ["--"]:
        command = command[1:]
    _check(bool(command), "no MCP server to run: give its command after `--`, e.g. `-- npx -y server-everything`")
    key = (args.key or "").strip() or settings.key()
    if key is None:
        raise InvalidOptionsError("no API key: pass --key or set SWITCHBOARD_API_KEY (or ANTHROPIC_API_KEY)")
    server_id: str | None = args.server_id
    _check(
        server_id is None or SERVER_ID.fullmatch(server_id) is not None, "--server-id must match [A-Za-z0-9_-]{1,64}"
    )
    _check(0 <= args.poll_wait <= MAX_POLL_WAIT_SECONDS, f"--poll-wait must be between 0 and {MAX_POLL_WAIT_SECONDS:g}")
    _check(args.tool_timeout > 0, "--tool-timeout must be positive")
    _check(args.max_concurrency >= 1, "--max-concurrency must be at least 1")
    log_level = "DEBUG" if args.verbose else settings.log_level.upper()
    _check(log_level in logging.getLevelNamesMapping(), f"SWITCHBOARD_LOG_LEVEL {log_level!r} is not a logging level")
    return ConnectOptions(
        url=_url(args.url or settings.anthropic_base_url or DEFAULT_URL),
        key=key,
        command=tuple(command),
        server_id=server_id,
        poll=args.poll,
        poll_wait=args.poll_wait,
        tool_timeout=args.tool_timeout,
        max_concurrency=args.max_concurrency,
        log_level=log_level,
        server_env=tuple(_server_env(args.env or ())),
    )


def _server_env(items: Sequence[str]) -> Iterator[tuple[str, str]]:
    """``--env NAME=VALUE`` as given; ``--env NAME`` takes the connector's own value, which must be set."""
    for item in items:
        name, has_value, value = item.partition("=")
        _check(bool(_ENV_NAME.fullmatch(name)), f"--env {item.split('=')[0]!r} is not a variable name")
        if not has_value:
            # Passing chosen variables of the user's own environment through to their MCP server is the point here.
            own = os.environ.get(name)  # noqa: TID251
            _check(own is not None, f"--env {name}: {name} is not set in this environment")
            value = own or ""
        yield name, value


def server_id_from_name(name: str | None) -> str:
    """A server id made from the MCP server's name: characters outside ``[A-Za-z0-9_-]`` become ``-``."""
    cleaned = _NOT_IN_SERVER_ID.sub("-", name or "").strip("-")[:64].strip("-")
    return cleaned or "default"
