"""The reference ``@modelcontextprotocol/server-filesystem`` MCP server, installed once with npm into ``.cache``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["FILESYSTEM_SERVER_VERSION", "filesystem_server_command"]

FILESYSTEM_SERVER_VERSION = "2026.8.31"
_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "mcp-filesystem"


def filesystem_server_command(root: Path) -> list[str] | None:
    """``npx`` running the server on ``root``; None when Node is not installed. A failed install raises."""
    npx, npm = shutil.which("npx"), shutil.which("npm")
    if npx is None or npm is None:
        return None
    binary = _CACHE / "node_modules" / ".bin" / "mcp-server-filesystem"
    if not binary.exists():
        _CACHE.mkdir(parents=True, exist_ok=True)
        package = f"@modelcontextprotocol/server-filesystem@{FILESYSTEM_SERVER_VERSION}"
        installed = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(_CACHE), package],
            capture_output=True,
            timeout=300,
            check=False,
        )
        if installed.returncode != 0 or not binary.exists():
            raise RuntimeError(f"npm install {package} failed:\n{installed.stderr.decode(errors='replace')[-2000:]}")
    return [npx, "--prefix", str(_CACHE), "--offline", "mcp-server-filesystem", str(root)]
