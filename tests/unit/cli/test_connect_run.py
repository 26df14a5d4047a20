"""``switchboard connect`` as a command: exit codes, one-line messages, a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fakes.mcp_notes_server import server_command
from switchboard.cli.__main__ import main
from switchboard.cli.connect.options import ConnectOptions
from switchboard.cli.connect.run import EXIT_FATAL, EXIT_MCP_SERVER, run_connect


class _Refuses(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_refused_key_exits_2_with_one_line(refusing_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    options = ConnectOptions(url=refusing_url, key="sk-wrong", command=tuple(server_command()))
    assert run_connect(options) == EXIT_FATAL
    err = capsys.readouterr().err
    assert "switchboard connect: Switchboard refused the key (HTTP 401): invalid x-api-key\n" in err
    assert "Traceback" not in err and "sk-wrong" not in err


def test_an_mcp_server_that_cannot_start_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    options = ConnectOptions(url=closed_port_url(), key="k", command=("/nonexistent/mcp-server",))
    assert run_connect(options) == EXIT_MCP_SERVER
    err = capsys.readouterr().err
    assert "switchboard connect: could not start the MCP server '/nonexistent/mcp-server'" in err
    assert "Traceback" not in err


def test_unusable_options_exit_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SWITCHBOARD_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["connect", "--", "true"])
    assert exit_info.value.code == EXIT_FATAL
    assert (
        capsys.readouterr().err
        == "switchboard connect: no API key: pass --key or set SWITCHBOARD_API_KEY (or ANTHROPIC_API_KEY)\n"
    )


async def test_sigterm_stops_the_connector_cleanly() -> None:
    # An unreachable broker: the connector starts its MCP server and keeps retrying until it is told to stop.
    args = [
        "-m",
        "switchboard.cli",
        "connect",
        "--url",
        closed_port_url(),
        "--key",
        "sk-secret",
        "--",
        *server_command(),
    ]
    process = await asyncio.create_subprocess_exec(sys.executable, *args, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while not any("reconnecting in" in line for line in lines):
            line = await asyncio.wait_for(process.stderr.readline(), 20)
            assert line, f"the connector exited early: {lines}"
            lines.append(line.decode())
        process.send_signal(signal.SIGTERM)
        lines += (await asyncio.wait_for(process.stderr.read(), 20)).decode().splitlines()
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = "\n".join(lines)
    assert f"starting the MCP server {sys.executable}" in text
    assert "Traceback" not in text and "sk-secret" not in text
