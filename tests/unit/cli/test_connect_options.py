"""How ``switchboard connect`` resolves its options: flags, then environment variables, then defaults."""

from __future__ import annotations

import pytest

from switchboard.cli.__main__ import build_parser
from switchboard.cli.connect.errors import InvalidOptionsError
from switchboard.cli.connect.options import ConnectOptions, ConnectSettings, resolve_options, server_id_from_name

ENV_VARS = (
    "SWITCHBOARD_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "SWITCHBOARD_LOG_LEVEL",
)
SERVER = ["--", "python", "server.py", "--url", "not-ours"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def resolve(*argv: str) -> ConnectOptions:
    return resolve_options(build_parser().parse_args(["connect", *argv]))


def test_defaults() -> None:
    options = resolve("--key", "sk-flag", *SERVER)
    assert options.url == "http://127.0.0.1:8080"
    assert options.key == "sk-flag"
    assert options.command == ("python", "server.py", "--url", "not-ours")
    assert options.server_id is None
    assert not options.poll
    assert (options.poll_wait, options.tool_timeout, options.max_concurrency) == (20.0, 60.0, 8)
    assert options.log_level == "INFO"


def test_log_level_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_LOG_LEVEL", "warning")
    assert resolve("--key", "k", *SERVER).log_level == "WARNING"
    assert resolve("--key", "k", "-v", *SERVER).log_level == "DEBUG"
    monkeypatch.setenv("SWITCHBOARD_LOG_LEVEL", "chatty")
    with pytest.raises(InvalidOptionsError, match="SWITCHBOARD_LOG_LEVEL"):
        resolve("--key", "k", *SERVER)


def test_flags() -> None:
    options = resolve(
        "--url", "https://sb.example.com/", "--key", "k", "--server-id", "fs_1", "--poll", "--poll-wait", "5",
        "--tool-timeout", "9", "--max-concurrency", "2", "-v", *SERVER,
    )  # fmt: skip
    assert options.url == "https://sb.example.com"
    assert options.server_id == "fs_1"
    assert options.poll and options.log_level == "DEBUG"
    assert (options.poll_wait, options.tool_timeout, options.max_concurrency) == (5.0, 9.0, 2)
    assert options.websocket_url("/api/mcp/ws/u") == "wss://sb.example.com/api/mcp/ws/u"
    assert options.http_url("/api/mcp/status") == "https://sb.example.com/api/mcp/status"


def test_command_without_the_separator() -> None:
    assert resolve("--key", "k", "npx", "-y", "server").command == ("npx", "-y", "server")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SWITCHBOARD_API_KEY": "sb", "ANTHROPIC_API_KEY": "an", "ANTHROPIC_AUTH_TOKEN": "tok"}, "sb"),
        ({"ANTHROPIC_API_KEY": "an", "ANTHROPIC_AUTH_TOKEN": "tok"}, "an"),
        ({"ANTHROPIC_AUTH_TOKEN": "tok"}, "tok"),
        ({"SWITCHBOARD_API_KEY": "", "ANTHROPIC_API_KEY": " ", "ANTHROPIC_AUTH_TOKEN": "tok"}, "tok"),
    ],
)
def test_key_from_the_environment_in_order(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert resolve(*SERVER).key == expected


def test_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_API_KEY", "from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://env.example:9000")
    assert resolve(*SERVER).url == "http://env.example:9000"
    options = resolve("--key", "from-flag", "--url", "http://flag.example", *SERVER)
    assert (options.key, options.url) == ("from-flag", "http://flag.example")


def test_the_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_API_KEY", "sk-secret-value")
    options = resolve("--url", "http://user:pw@host:1", *SERVER)
    assert "sk-secret-value" not in repr(options)
    assert "sk-secret-value" not in repr(ConnectSettings())
    assert options.display_url == "http://host:1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--key", "k"], "no MCP server to run"),
        (["--key", "k", "--"], "no MCP server to run"),
        ([*SERVER], "no API key"),
        (["--key", "k", "--server-id", "has space", *SERVER], "--server-id"),
        (["--key", "k", "--server-id", "x" * 65, *SERVER], "--server-id"),
        (["--key", "k", "--url", "ftp://host", *SERVER], "http:// or https://"),
        (["--key", "k", "--url", "http://host:port", *SERVER], "not a URL"),
        (["--key", "k", "--poll-wait", "31", *SERVER], "--poll-wait"),
        (["--key", "k", "--tool-timeout", "0", *SERVER], "--tool-timeout"),
        (["--key", "k", "--max-concurrency", "0", *SERVER], "--max-concurrency"),
    ],
)
def test_unusable_options_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(InvalidOptionsError, match=message):
        resolve(*argv)


@pytest.mark.parametrize(
    ("name", "server_id"),
    [
        ("notes", "notes"),
        ("secure-filesystem-server", "secure-filesystem-server"),
        ("@modelcontextprotocol/server-github", "modelcontextprotocol-server-github"),
        ("my server v1.2", "my-server-v1-2"),
        ("", "default"),
        (None, "default"),
        ("///", "default"),
        ("a" * 100, "a" * 64),
    ],
)
def test_server_id_from_the_servers_name(name: str | None, server_id: str) -> None:
    assert server_id_from_name(name) == server_id


def test_env_passes_chosen_variables_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TOKEN", "t0ken")
    options = resolve("--key", "k", "--env", "MY_TOKEN", "--env", "MODE=ro=1", *SERVER)
    assert options.server_env == (("MY_TOKEN", "t0ken"), ("MODE", "ro=1"))
    assert "t0ken" not in repr(options)


@pytest.mark.parametrize(
    ("item", "message"), [("NOT_SET_ANYWHERE", "is not set"), ("1BAD=x", "not a variable name"), ("=x", "not a")]
)
def test_unusable_env_items_are_refused(monkeypatch: pytest.MonkeyPatch, item: str, message: str) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(InvalidOptionsError, match=message):
        resolve("--key", "k", "--env", item, *SERVER)
