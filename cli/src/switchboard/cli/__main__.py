"""The ``switchboard`` command: parse the arguments and hand over to the module of the subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.cli.connect.arguments import add_connect_arguments

if TYPE_CHECKING:
    from switchboard.api_gateway.settings import GatewaySettings

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description="Run and manage a local Switchboard.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="run NATS and every service in the foreground until Ctrl-C")
    up.add_argument("--port", type=int, help="gateway port (default: $SWITCHBOARD_GATEWAY_PORT or 8080)")
    up.add_argument("--demo", action="store_true", help="serve the offline `demo` model (no upstream needed)")
    up.add_argument("--data-dir", type=Path, help="local state (default: $SWITCHBOARD_DATA_DIR or .switchboard)")

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="mint an API key and print it once")
    create.add_argument("--user", required=True, help="user id the key belongs to")
    create.add_argument("--name", help="a label to recognise the key by")
    create.add_argument("--tier", help="subscription tier of the user (sets it when given)")
    create.add_argument("--admin", action="store_true", help="an administrator key (manages every user)")
    create.add_argument("--data-dir", type=Path, help="where the SQLite database is when DATABASE_URL is unset")

    users = commands.add_parser("users", help="manage users").add_subparsers(dest="action", required=True)
    set_tier = users.add_parser("set-tier", help="move a user to a subscription tier")
    set_tier.add_argument("user", metavar="USER", help="user id")
    set_tier.add_argument("tier", metavar="TIER", help="tier name, e.g. free, starter, pro, enterprise")
    set_tier.add_argument("--data-dir", type=Path, help="where the SQLite database is when DATABASE_URL is unset")

    byok = commands.add_parser("byok", help="users' own provider keys").add_subparsers(dest="action", required=True)
    rotate = byok.add_parser("rotate", help="re-encrypt every stored key under the first SWITCHBOARD_BYOK_KEYS key")
    rotate.add_argument("--data-dir", type=Path, help="where the SQLite database is when DATABASE_URL is unset")

    docs = commands.add_parser("docs", help="regenerate docs/configuration.md, docs/events.md and docs/asyncapi.yaml")
    docs.add_argument("--out", type=Path, default=Path("docs"), help="directory to write to (default: docs)")

    metering = commands.add_parser("metering", help="billing operations").add_subparsers(dest="action", required=True)
    replay = metering.add_parser("replay", help="re-bill completions Lago refused (the dead-letter stream)")
    replay.add_argument("--limit", type=int, help="replay at most this many (default: all)")
    replay.add_argument("--server", help="NATS URL (default: $NATS_URL, else the server `switchboard up` runs)")
    replay.add_argument("--data-dir", type=Path, help="data dir of the `switchboard up` whose server to use")

    events = commands.add_parser("events", help="watch and inspect the bus").add_subparsers(
        dest="action", required=True
    )
    tail = events.add_parser("tail", help="print the messages on SUBJECT (wildcards allowed) until Ctrl-C")
    tail.add_argument("subject", metavar="SUBJECT", nargs="?", help="default: every subject, e.g. 'switchboard.>'")
    _add_tail_options(tail)
    inspect = events.add_parser("inspect", help="server, streams, consumers, KV buckets and connections")
    inspect.add_argument("--server", help=_SERVER_HELP)
    inspect.add_argument("--monitor", help="monitoring URL (default: the one `switchboard up` runs, else :8222)")
    inspect.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    inspect.add_argument("--data-dir", type=Path, help="data dir of the `switchboard up` whose server to inspect")

    tap = commands.add_parser("tap", help="alias of `events tail`")
    tap.add_argument("subject", metavar="SUBJECT", help="e.g. 'switchboard.>'")
    _add_tail_options(tap)

    connect = commands.add_parser(
        "connect",
        help="bridge a local MCP server to Switchboard's tool-broker until Ctrl-C",
        usage="%(prog)s [options] -- COMMAND [ARG ...]",
    )
    add_connect_arguments(connect)
    return parser


_SERVER_HELP = "NATS URL (default: $NATS_URL, else the server `switchboard up` runs)"


def _add_tail_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help=_SERVER_HELP)
    parser.add_argument("--max-chars", type=int, default=4000, help="cut payloads longer than this (0: never)")
    parser.add_argument("--json", action="store_true", help="one JSON object per message (subject, headers, payload)")
    parser.add_argument("--data-dir", type=Path, help="data dir of the `switchboard up` whose server to tap")


def _run(args: argparse.Namespace) -> int:
    # Imports per command: `switchboard docs --help` shouldn't load the gateway's database stack.
    if args.command == "docs":
        from switchboard.cli.docs import run_docs

        return run_docs(args.out)
    if args.command == "connect":  # runs on a user's machine: no gateway settings, no database
        return _run_connect(args)

    from switchboard.api_gateway.settings import GatewaySettings

    settings = GatewaySettings()
    if args.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    if args.command == "up":
        from switchboard.cli.up import UpOptions, run_up

        return run_up(UpOptions(args.port or settings.port, args.demo, settings.data_dir), settings)
    if args.command == "keys":
        from switchboard.cli.keys import run_create

        return run_create(settings, args.user, args.name, args.tier, args.admin)
    if args.command == "byok":
        from switchboard.cli.keys import run_rotate_byok

        return run_rotate_byok(settings)
    if args.command == "users":
        from switchboard.cli.keys import run_set_tier

        return run_set_tier(settings, args.user, args.tier)
    return _run_bus_command(args, settings)


def _run_bus_command(args: argparse.Namespace, settings: GatewaySettings) -> int:
    from switchboard.cli.events.servers import resolve_monitor_url, resolve_nats_url

    configured = settings.nats_url if "nats_url" in settings.model_fields_set else None
    url = resolve_nats_url(args.server, configured, settings.data_dir, settings.nats_url)
    if args.command == "metering":
        from switchboard.cli.metering import run_replay

        return run_replay(url, settings.subjects, args.limit)
    if args.command == "events" and args.action == "inspect":
        from switchboard.cli.events.inspect import run_inspect

        return run_inspect(url, resolve_monitor_url(args.monitor, settings.data_dir), args.json)
    from switchboard.cli.events.tail import TailOptions, run_tail

    subject = args.subject or f"{settings.subjects.prefix}.>"
    return run_tail(url, TailOptions(subject, args.max_chars, args.json))


def _run_connect(args: argparse.Namespace) -> int:
    from switchboard.cli.connect.errors import InvalidOptionsError
    from switchboard.cli.connect.options import resolve_options
    from switchboard.cli.connect.run import EXIT_FATAL, run_connect

    try:
        options = resolve_options(args)
    except InvalidOptionsError as exc:
        print(f"switchboard connect: {exc}", file=sys.stderr)
        return EXIT_FATAL
    return run_connect(options)


def main(argv: Sequence[str] | None = None) -> None:
    raise SystemExit(_run(build_parser().parse_args(argv)))


if __name__ == "__main__":
    main()
