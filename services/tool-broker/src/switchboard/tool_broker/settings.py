"""Configuration of the tool-broker, read once from the environment."""

from __future__ import annotations

from switchboard.common.settings import CommonSettings

__all__ = ["ToolBrokerSettings"]


class ToolBrokerSettings(CommonSettings):
    """Every knob of the tool-broker; each field documents its environment variable."""
