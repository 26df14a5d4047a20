"""Configuration of the api-gateway, read once from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from switchboard.common.database_urls import async_driver_url
from switchboard.common.settings import CommonSettings

__all__ = ["GatewaySettings"]


class GatewaySettings(CommonSettings):
    """Every knob of the api-gateway; each field documents its environment variable."""

    host: str = Field("127.0.0.1", validation_alias="SWITCHBOARD_GATEWAY_HOST", description="Address to bind.")
    port: int = Field(8080, validation_alias="SWITCHBOARD_GATEWAY_PORT", description="TCP port to bind.")
    workers: int = Field(
        1,
        ge=1,
        validation_alias="SWITCHBOARD_GATEWAY_WORKERS",
        description="Worker processes sharing the port, each with its own NATS connection and pools (one core "
        "each is the usual choice). The database is migrated once before they start.",
    )
    shutdown_grace: float = Field(
        30.0,
        ge=0,
        validation_alias="SWITCHBOARD_SHUTDOWN_GRACE",
        description="On SIGTERM: seconds in-flight requests and streams may still run (new connections are refused "
        "at once); what is still running then ends with a retryable 529 overloaded_error (an SSE error event on a "
        "stream), and the process exits 0. With several workers, uvicorn cuts what is left without that error.",
    )
    access_log: bool = Field(
        False,
        validation_alias="SWITCHBOARD_ACCESS_LOG",
        description="One INFO line per HTTP request (method, path, status, duration_ms, model, request_id, trace_id). "
        "Off by default: it costs about 20 µs per request, and the audit log keeps the same facts in the database.",
    )
    data_dir: Path = Field(
        Path(".switchboard"),
        validation_alias="SWITCHBOARD_DATA_DIR",
        description="Directory for local state (the SQLite database when DATABASE_URL is unset).",
    )
    database_url: str | None = Field(
        None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL of the gateway's database, e.g. postgresql://user@host/db. "
        "Unset: SQLite at $SWITCHBOARD_DATA_DIR/gateway.db.",
    )
    max_body_bytes: int = Field(
        32 * 1024 * 1024,
        validation_alias="SWITCHBOARD_MAX_BODY_BYTES",
        description="Largest accepted request body; larger ones get 413 request_too_large.",
        gt=0,
    )
    accept_timeout: float = Field(
        2.0,
        validation_alias="SWITCHBOARD_ACCEPT_TIMEOUT",
        description="Seconds to wait for an orchestrator to accept a request before answering 529.",
        gt=0,
    )
    orchestrator_idle_timeout: float = Field(
        3.0,
        validation_alias="SWITCHBOARD_ORCHESTRATOR_IDLE_TIMEOUT",
        description="Seconds without any frame (orchestrators heartbeat every second) after which the "
        "orchestrator serving a request is considered dead.",
        gt=0,
    )
    client_ping_interval: float = Field(
        15.0,
        validation_alias="SWITCHBOARD_CLIENT_PING_INTERVAL",
        description="Seconds of silence on a stream after which the gateway sends `event: ping`.",
        gt=0,
    )
    auth_cache_ttl: float = Field(
        30.0,
        validation_alias="SWITCHBOARD_AUTH_CACHE_TTL",
        description="Seconds a verified API key is cached in memory (revocation takes effect after this).",
        ge=0,
    )
    models_cache_ttl: float = Field(
        30.0,
        validation_alias="SWITCHBOARD_MODELS_CACHE_TTL",
        description="Seconds the model list fetched from the orchestrators is cached.",
        ge=0,
    )

    keycloak_url: str | None = Field(
        None,
        validation_alias="KEYCLOAK_URL",
        description="Base URL of Keycloak (without /realms). Set with KEYCLOAK_REALM to accept its access tokens "
        "as `Authorization: Bearer <jwt>` or `x-api-key: Bearer <jwt>`.",
    )
    keycloak_realm: str | None = Field(None, validation_alias="KEYCLOAK_REALM", description="Keycloak realm name.")
    keycloak_audience: str = Field(
        "switchboard-gateway",
        validation_alias="KEYCLOAK_AUDIENCE",
        description="Audience a token must carry (add an audience mapper for this client in Keycloak).",
    )
    dashboard: bool = Field(
        True,
        validation_alias="SWITCHBOARD_DASHBOARD",
        description="Serve the web dashboard at `/dashboard` (static pages calling the public APIs).",
    )
    dashboard_client_id: str = Field(
        "switchboard-dashboard",
        validation_alias="SWITCHBOARD_DASHBOARD_CLIENT_ID",
        description="Keycloak client the dashboard signs in with (public client, standard flow with PKCE S256, "
        "redirect URI `<gateway URL>/dashboard/`, web origin the gateway's URL; its tokens need the "
        "`KEYCLOAK_AUDIENCE` audience). Used only when KEYCLOAK_URL and KEYCLOAK_REALM are set.",
    )
    jwt_tier_claim: str = Field(
        "switchboard_tier",
        validation_alias="SWITCHBOARD_JWT_TIER_CLAIM",
        description="JWT claim (dotted path allowed) naming the caller's tier; absent: the user's stored tier.",
    )
    admin_role: str = Field(
        "switchboard-admin",
        validation_alias="SWITCHBOARD_ADMIN_ROLE",
        description="Keycloak realm or client role that makes a JWT caller an administrator.",
    )
    tiers: str | None = Field(
        None,
        validation_alias="SWITCHBOARD_TIERS",
        description="JSON object of tier limits merged over the defaults, e.g. "
        '{"free": {"requests_per_minute": 5}, "team": {"requests_per_minute": 120, "requests_per_day": null, '
        '"tokens_per_minute": 200000}}. Defaults: free 10/min 100/day, starter 60/min 1000/day, pro 300/min, '
        "enterprise unlimited.",
    )
    default_tier: str = Field(
        "free", validation_alias="SWITCHBOARD_DEFAULT_TIER", description="Tier of users created without one."
    )
    byok_keys: SecretStr | None = Field(
        None,
        validation_alias="SWITCHBOARD_BYOK_KEYS",
        description="Comma-separated Fernet keys encrypting users' own provider keys (first one encrypts; the "
        "others still decrypt, for rotation). Unset: BYOK is off. Orchestrators need the same value.",
    )
    byok_allow_private: bool = Field(
        False,
        validation_alias="SWITCHBOARD_BYOK_ALLOW_PRIVATE",
        description="Let BYOK base URLs point at loopback, link-local or private addresses (off: no SSRF).",
    )
    audit_store_bodies: bool = Field(
        False,
        validation_alias="SWITCHBOARD_AUDIT_STORE_BODIES",
        description="Store an excerpt of request bodies (prompts) in the audit log. Off by default.",
    )
    trust_forwarded_for: bool = Field(
        False,
        validation_alias="SWITCHBOARD_TRUST_FORWARDED_FOR",
        description="Take the client address from X-Forwarded-For (only behind a proxy you control).",
    )

    tool_broker_url: str | None = Field(
        None,
        validation_alias="SWITCHBOARD_TOOL_BROKER_URL",
        description="Base URL of a tool-broker to forward `/api/mcp/*` (HTTP and WebSocket) to, so connectors use "
        "the gateway's URL. `switchboard up` sets it; behind an edge router that routes `/api/mcp` itself "
        "(Traefik in docker-compose) leave it unset.",
    )

    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL: asyncpg for PostgreSQL, aiosqlite for SQLite."""
        url = self.database_url or f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'gateway.db'}"
        return async_driver_url(url)
