"""Why a connector stops or reconnects.

``ConnectError`` is the base. ``InvalidOptionsError``: the command line or environment cannot work (exit 2).
``AuthenticationError``: the broker refused the key or the user (401/403, close code 4401/4403; exit 2).
``McpServerError``: the local MCP server could not start or went away (exit 1). ``LinkDroppedError``: the link
to the broker broke; the connector reconnects with backoff.
"""

from __future__ import annotations

__all__ = ["AuthenticationError", "ConnectError", "InvalidOptionsError", "LinkDroppedError", "McpServerError"]


class ConnectError(Exception):
    """Base of every error of ``switchboard connect``; the message is one line meant for the user."""


class InvalidOptionsError(ConnectError):
    """The arguments or environment variables cannot work."""


class AuthenticationError(ConnectError):
    """The broker refused the key, or the user it belongs to: retrying cannot help."""


class McpServerError(ConnectError):
    """The local MCP server could not be started, or its process ended."""


class LinkDroppedError(ConnectError):
    """The connection to the broker broke or was refused for a reason that may pass."""
