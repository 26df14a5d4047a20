"""Configuration of the orchestrator, read once from the environment (the only place env vars are read)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, create_model
from pydantic_settings import BaseSettings

from switchboard.common.settings import CommonSettings

__all__ = ["DEFAULT_LITELLM_URL", "OrchestratorSettings", "secret_from_env"]

DEFAULT_LITELLM_URL = "http://localhost:4000"


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
    litellm_url: str | None = Field(
        None,
        validation_alias="LITELLM_URL",
        description="Base URL of a LiteLLM proxy: the built-in OpenAI-compatible provider `litellm` (unset or empty: "
        f"{DEFAULT_LITELLM_URL}, and LiteLLM is not the default route). When this is set and no routing config is "
        "given, every model goes to LiteLLM.",
    )
    litellm_api_key: SecretStr | None = Field(
        None,
        validation_alias="LITELLM_API_KEY",
        description="Bearer key (a LiteLLM virtual or master key) sent to the `litellm` provider.",
    )
    thinking_signing_key: SecretStr | None = Field(
        None,
        validation_alias="SWITCHBOARD_THINKING_SIGNING_KEY",
        description="Secret that signs thinking blocks made from an OpenAI-compatible provider's reasoning, so "
        "they can be replayed to it later. Give every replica the same value; unset, each replica makes a "
        "random one and reasoning from another replica is dropped, not replayed.",
    )
    byok_keys: SecretStr | None = Field(
        None,
        validation_alias="SWITCHBOARD_BYOK_KEYS",
        description="Comma-separated Fernet keys that open users' own provider keys (BYOK); the first is the "
        "current one, the others still decrypt (rotation). Give the gateway the same value. Unset: a request "
        "carrying a BYOK key fails rather than silently using ours.",
    )
    byok_allow_private: bool = Field(
        False,
        validation_alias="SWITCHBOARD_BYOK_ALLOW_PRIVATE",
        description="Let a BYOK base URL reach loopback, link-local or private addresses (off: no SSRF).",
    )
    config_path: Path | None = Field(
        None,
        validation_alias="SWITCHBOARD_CONFIG",
        description="Routing config file (JSON or YAML: providers and model_mapping, with fallbacks). "
        "Unset: every model goes to `litellm` when LITELLM_URL is set, else to the `anthropic` provider.",
    )
    demo: bool = Field(
        False,
        validation_alias="SWITCHBOARD_DEMO",
        description="Add the offline `demo` provider and a `demo` model route (no upstream needed).",
    )
    data_dir: Path = Field(
        Path(".switchboard"),
        validation_alias="SWITCHBOARD_DATA_DIR",
        description="Directory for local state (the spool, unless SWITCHBOARD_SPOOL_DIR says otherwise).",
    )
    spool_dir: Path | None = Field(
        None,
        validation_alias="SWITCHBOARD_SPOOL_DIR",
        description="Where usage records (CompletionRecorded) wait, one JSON file each, while the usage stream "
        "cannot take them; they are published and removed once it can, also by the next start. Keep it on "
        "persistent storage. Unset: $SWITCHBOARD_DATA_DIR/spool/orchestrator.",
    )
    shutdown_grace: float = Field(
        30.0,
        ge=0,
        validation_alias="SWITCHBOARD_SHUTDOWN_GRACE",
        description="On SIGTERM: the replica stops taking requests at once and gives the running ones this many "
        "seconds to finish; what is still running then ends with a retryable 529 overloaded_error.",
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
    ops_port: int | None = Field(
        None,
        validation_alias="SWITCHBOARD_OPS_PORT",
        description="Port of the ops HTTP endpoint on 0.0.0.0: `GET /metrics` (Prometheus), `/livez` and "
        "`/readyz` (200 once connected to NATS and subscribed, 503 while disconnected or draining). Unset: off.",
        ge=1,
        le=65535,
    )

    @property
    def litellm_configured(self) -> bool:
        """Whether LITELLM_URL was given (an empty value, as compose files pass through, counts as unset)."""
        return bool(self.litellm_url)

    @property
    def litellm_base_url(self) -> str:
        return (self.litellm_url or DEFAULT_LITELLM_URL).rstrip("/")

    @property
    def spool_path(self) -> Path:
        return self.spool_dir or self.data_dir / "spool" / "orchestrator"


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
