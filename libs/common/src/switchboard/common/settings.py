"""Settings every service shares. Each service subclasses :class:`CommonSettings` once, in its ``settings.py``.

Each field names its environment variable as ``validation_alias``; ``docs/configuration.md`` is generated from
these classes (``./switchboard docs``), so the description is the documentation.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.common.subjects import Subjects

__all__ = ["CommonSettings"]


class CommonSettings(BaseSettings):
    """Connection to the bus and naming, identical for every service."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        validation_alias="NATS_URL",
        description="NATS server(s), comma-separated. JetStream must be enabled; NATS >= 2.12 is required.",
    )
    subject_prefix: str = Field(
        "switchboard",
        validation_alias="SWITCHBOARD_SUBJECT_PREFIX",
        description="First token of every NATS subject and of the JetStream stream names.",
        pattern=r"^[A-Za-z0-9_-]+$",
    )
    log_level: str = Field("INFO", validation_alias="SWITCHBOARD_LOG_LEVEL", description="Python logging level name.")

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.subject_prefix)

    def nats_servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]
