"""Pieces of ``switchboard up`` that need no running stack."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from switchboard.api_gateway.settings import GatewaySettings
from switchboard.cli.__main__ import build_parser
from switchboard.cli.health import failing_components
from switchboard.cli.up import UpOptions, instructions, run_up


def test_instructions_are_the_lines_to_paste() -> None:
    assert instructions("http://127.0.0.1:8080", "sk-ant-uc-x", demo=False).splitlines() == [
        "export ANTHROPIC_BASE_URL=http://127.0.0.1:8080",
        "export ANTHROPIC_AUTH_TOKEN=sk-ant-uc-x",
    ]
    assert instructions("u", "k", demo=True).splitlines()[-1] == (
        "export ANTHROPIC_MODEL=demo ANTHROPIC_DEFAULT_HAIKU_MODEL=demo"
    )


def test_failing_components_name_what_is_down() -> None:
    body = {
        "status": "degraded",
        "components": {
            "nats": {"status": "ok"},
            "orchestrator": {"status": "down", "detail": "no orchestrator answered"},
            "database": "down",
        },
    }
    assert failing_components(body) == ["orchestrator: down (no orchestrator answered)", "database: down"]
    assert failing_components(["not", "a", "dict"]) == []


def test_up_refuses_a_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status = run_up(UpOptions(port=port, demo=False, data_dir=tmp_path), GatewaySettings())
    assert status == 1
    assert f"port {port} is in use" in capsys.readouterr().out
    assert not (tmp_path / "logs").exists(), "nothing was started"


def test_parser_knows_every_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["up", "--demo", "--port", "9000"]).port == 9000
    assert parser.parse_args(["keys", "create", "--user", "alice"]).user == "alice"
    assert parser.parse_args(["tap", "switchboard.>"]).subject == "switchboard.>"
    assert parser.parse_args(["docs"]).out == Path("docs")
    with pytest.raises(SystemExit):
        parser.parse_args(["keys", "create"])  # --user is required
