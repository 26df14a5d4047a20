"""``switchboard connect``: bridge a local MCP server (a stdio command) to Switchboard's tool-broker.

``arguments`` and ``options`` turn the command line and environment into :class:`options.ConnectOptions`,
``mcp_bridge`` runs the MCP server, ``websocket_link`` and ``polling_link`` carry calls from the broker, and
``run.run_connect`` wires them together. See docs/mcp.md for the protocol.
"""

# Nothing imported here on purpose: `switchboard --help` loads `arguments` only, `run` (mcp, websockets) on use.
__all__: list[str] = []
