"""Configuration of the orchestrator, read once from the environment (the only place env vars are read)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, create_model
from pydantic_settings import BaseSettings

from switchboard.common.settings import CommonSettings

__all__ = ["OrchestratorSettings", "secret_from_env"]


class OrchestratorSettings(CommonSettings):
    """Every knob of the orchestrator; each field documents its environment variable."""

    anthropic_upstream_url: str = Field(
        "https://api.anthropic.com",
        validation_alias="ANTHROPIC_UPSTREAM_URL",
        description="Base URL (without /v1) of the default `anthropic` provider when no routing config is set.",
    )
    anthropic_upstream_api_key: SecretStr | None = Field(
        None,
        validation_alias="ANTHROPIC_UPSTREAM_API_KEY",
        description="API key sent as x-api-key to the default `anthropic` provider.",
    )
    config_path: Path | None = Field(
        None,
        validation_alias="SWITCHBOARD_CONFIG",
        description="Routing config file (JSON or YAML: providers and model_mapping). Unset: every model "
        "goes to the default `anthropic` provider.",
    )
    demo: bool = Field(
        False,
        validation_alias="SWITCHBOARD_DEMO",
        description="Add the offline `demo` provider and a `demo` model route (no upstream needed).",
    )
    heartbeat_interval: float = Field(
        1.0,
        validation_alias="SWITCHBOARD_HEARTBEAT_INTERVAL",
        description="Seconds of silence on a reply stream after which a heartbeat frame is sent.",
        gt=0,
    )
    max_inflight: int = Field(
        256,
        validation_alias="SWITCHBOARD_ORCHESTRATOR_MAX_INFLIGHT",
        description="Requests one replica serves at once; over it a request is left to other replicas.",
        ge=1,
    )
    upstream_connect_timeout: float = Field(
        5.0,
        validation_alias="SWITCHBOARD_UPSTREAM_CONNECT_TIMEOUT",
        description="Seconds to open a connection to a provider.",
        gt=0,
    )
    upstream_read_timeout: float = Field(
        600.0,
        validation_alias="SWITCHBOARD_UPSTREAM_READ_TIMEOUT",
        description="Seconds a provider may stay silent (before the first byte or between two chunks).",
        gt=0,
    )


def secret_from_env(variable: str) -> SecretStr | None:
    """The value of the environment variable ``variable`` (named by a routing config), or ``None``.

    Built as a one-field settings class so that env access stays inside pydantic-settings.
    """
    reader = create_model(
        "ProviderKeySettings",
        __base__=BaseSettings,
        value=(SecretStr | None, Field(None, validation_alias=variable)),
    )
    value = getattr(reader(), "value", None)
    return value if isinstance(value, SecretStr) and value.get_secret_value() else None
