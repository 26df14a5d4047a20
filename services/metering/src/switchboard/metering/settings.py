"""Configuration of the metering service, read once from the environment."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from switchboard.common.database_urls import async_driver_url
from switchboard.common.settings import CommonSettings
from switchboard.metering.lago_events import DEFAULT_METRICS, PROPERTY_NAMES, BillableMetric

__all__ = ["MeteringSettings"]


class MeteringSettings(CommonSettings):
    """Every knob of the metering service; each field documents its environment variable."""

    lago_api_url: str | None = Field(
        None,
        validation_alias="LAGO_API_URL",
        description="Base URL of Lago's API (without /api/v1), e.g. http://lago-api:3000. Unset: billing is off "
        "and completions are only written to the usage ledger.",
    )
    lago_api_key: SecretStr | None = Field(
        None, validation_alias="LAGO_API_KEY", description="Lago API key, sent as `Authorization: Bearer`."
    )
    lago_subscription_id: str = Field(
        "{user_id}",
        validation_alias="SWITCHBOARD_LAGO_SUBSCRIPTION_ID",
        description="Template of the Lago `external_subscription_id` of a user's events; `{user_id}` is replaced "
        "by the user id.",
    )
    lago_metrics: str = Field(
        json.dumps(DEFAULT_METRICS),
        validation_alias="SWITCHBOARD_LAGO_METRICS",
        description="JSON object: Lago billable metric code -> the event properties to send for it, chosen from "
        + ", ".join(PROPERTY_NAMES)
        + ". With more than one code each completion becomes one event per code, with transaction_id "
        "`<request_id>:<code>` (a single code uses the request id itself).",
    )
    lago_batch_size: int = Field(
        100,
        validation_alias="SWITCHBOARD_LAGO_BATCH_SIZE",
        description="Most events per call to Lago's batch endpoint (Lago accepts at most 100).",
        ge=1,
        le=100,
    )
    lago_flush_interval: float = Field(
        1.0,
        validation_alias="SWITCHBOARD_LAGO_FLUSH_INTERVAL",
        description="Seconds a partial batch waits for more completions before it is sent.",
        gt=0,
    )
    ack_wait: float = Field(
        30.0,
        validation_alias="SWITCHBOARD_METERING_ACK_WAIT",
        description="Seconds JetStream waits for a replica's ack before handing its messages to another: how soon "
        "the batch of a crashed replica is billed by the others (live replicas keep theirs with in-progress acks).",
        ge=2,
    )
    lago_timeout: float = Field(
        10.0,
        validation_alias="SWITCHBOARD_LAGO_TIMEOUT",
        description="Seconds before a call to Lago counts as failed (and is retried).",
        gt=0,
    )
    metering_database_url: str | None = Field(
        None,
        validation_alias="METERING_DATABASE_URL",
        description="SQLAlchemy URL of the usage ledger. Unset: DATABASE_URL, else SQLite at "
        "$SWITCHBOARD_DATA_DIR/metering.db. Tables are prefixed `metering_`.",
    )
    database_url: str | None = Field(
        None,
        validation_alias="DATABASE_URL",
        description="Shared database URL, used for the ledger when METERING_DATABASE_URL is unset.",
    )
    data_dir: Path = Field(
        Path(".switchboard"),
        validation_alias="SWITCHBOARD_DATA_DIR",
        description="Directory for local state (the SQLite ledger when no database URL is set).",
    )
    ops_port: int | None = Field(
        None,
        validation_alias="SWITCHBOARD_OPS_PORT",
        description="Port of the ops HTTP endpoint on 0.0.0.0: `GET /metrics` (Prometheus), `/livez` and "
        "`/readyz` (200 once connected to NATS and subscribed, 503 while disconnected or draining). Unset: off.",
        ge=1,
        le=65535,
    )

    @field_validator("lago_metrics")
    @classmethod
    def _metrics_parse(cls, value: str) -> str:
        BillableMetric.parse_all(value)  # fail at startup, not on the first completion
        return value

    def metrics(self) -> list[BillableMetric]:
        return BillableMetric.parse_all(self.lago_metrics)

    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL: asyncpg for PostgreSQL, aiosqlite for SQLite."""
        url = (
            self.metering_database_url
            or self.database_url
            or f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'metering.db'}"
        )
        return async_driver_url(url)
