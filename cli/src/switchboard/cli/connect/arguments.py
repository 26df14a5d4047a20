"""The command line of ``switchboard connect``. Only ``argparse`` here: ``switchboard --help`` builds it."""

from __future__ import annotations

import argparse

__all__ = ["DEFAULT_URL", "add_connect_arguments"]

DEFAULT_URL = "http://127.0.0.1:8080"


def add_connect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help=f"Switchboard's base URL (default: $ANTHROPIC_BASE_URL, else {DEFAULT_URL})")
    parser.add_argument(
        "--key", help="API key (default: $SWITCHBOARD_API_KEY, else $ANTHROPIC_API_KEY, else $ANTHROPIC_AUTH_TOKEN)"
    )
    parser.add_argument("--server-id", help="name of this server's tools (default: the MCP server's own name)")
    parser.add_argument("--poll", action="store_true", help="HTTP long polling instead of a WebSocket")
    parser.add_argument("--poll-wait", type=float, default=20.0, help="seconds each long poll waits (default: 20)")
    parser.add_argument("--tool-timeout", type=float, default=60.0, help="seconds a tool call may take (default: 60)")
    parser.add_argument("--max-concurrency", type=int, default=8, help="tool calls run at once (default: 8)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="give the MCP server this environment variable (repeatable; NAME alone passes on your own value). "
        "Without it the server sees only a minimal environment (PATH, HOME, …), as the MCP SDK decides",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every tool call (DEBUG)")
    parser.add_argument(
        "server_command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG ...]", help="the MCP server to run"
    )
