"""Configuration of the metering service, read once from the environment."""

from __future__ import annotations

from switchboard.common.settings import CommonSettings

__all__ = ["MeteringSettings"]


class MeteringSettings(CommonSettings):
    """Every knob of the metering service; each field documents its environment variable."""
