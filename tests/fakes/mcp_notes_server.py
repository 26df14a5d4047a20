"""A small MCP server over stdio, written with the ``mcp`` SDK: the local server tests attach to Switchboard.

Run it as ``python tests/fakes/mcp_notes_server.py [--notes-dir DIR]``. Tools: ``read_note``, ``add``,
``slow_echo`` (to kill a connector mid-call), ``pixel`` (image content) and ``whoami`` (the process id, so a test
can tell which connector served a call). ``--notes-dir`` adds every ``DIR/<name>.txt`` file as a note.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mcp.server import MCPServer
from mcp.server.mcpserver import Image
from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["PIXEL_PNG", "SEED_NOTES", "build_server", "main", "server_command"]

SERVER_NAME = "notes"
SEED_NOTES = {"groceries": "milk, eggs", "todo": "ship it"}
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
"""A 1x1 PNG."""


def server_command(*args: str) -> list[str]:
    """The command line that runs this server (with this Python), e.g. for ``switchboard connect -- …``."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _load_notes(notes_dir: Path | None) -> dict[str, str]:
    notes = dict(SEED_NOTES)
    if notes_dir is not None:
        notes.update({path.stem: path.read_text().strip() for path in sorted(notes_dir.glob("*.txt"))})
    return notes


def build_server(notes_dir: Path | None = None) -> MCPServer:
    notes = _load_notes(notes_dir)
    mcp: MCPServer = MCPServer(SERVER_NAME)

    @mcp.tool()
    def read_note(name: str) -> str:
        """Read one note by its name."""
        if name not in notes:
            raise ToolError(f"no note named {name!r}")
        return f"note {name}: {notes[name]}"

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    async def slow_echo(text: str, seconds: float) -> str:
        """Wait `seconds`, then return `text`."""
        await asyncio.sleep(seconds)
        return text

    @mcp.tool()
    def pixel() -> Image:
        """A 1x1 PNG image."""
        return Image(data=PIXEL_PNG, format="png")

    @mcp.tool()
    def whoami() -> str:
        """The process id of this server."""
        return str(os.getpid())

    @mcp.tool()
    def env_var(name: str) -> str:
        """The value of one environment variable of this server ("unset" when it has none)."""
        return os.environ.get(name, "unset")  # noqa: TID251 - reporting its own environment is this tool's job

    return mcp


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A notes MCP server over stdio, for tests.")
    parser.add_argument("--notes-dir", type=Path, help="also serve every DIR/<name>.txt as note <name>")
    args = parser.parse_args(argv)
    build_server(args.notes_dir).run()


if __name__ == "__main__":
    main()
