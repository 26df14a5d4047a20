"""Switchboard tool-broker: runs tool calls on users' connectors (``python -m switchboard.tool_broker``)."""
