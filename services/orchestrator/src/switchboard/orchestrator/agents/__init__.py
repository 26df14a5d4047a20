"""Agent mode: the server-side loop that lets a model call the user's MCP tools through the tool-broker."""
