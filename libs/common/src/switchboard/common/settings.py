"""Settings every service shares. Each service subclasses :class:`CommonSettings` once, in its ``settings.py``.

Each field names its environment variable as ``validation_alias``; ``docs/configuration.md`` is generated from
these classes (``./switchboard docs``), so the description is the documentation.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchboard.common.logs import LogFormat, configure_logging
from switchboard.common.subjects import Subjects
from switchboard.common.tracing import TraceExporter, configure_tracing

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
    log_format: LogFormat = Field(
        "json",
        validation_alias="SWITCHBOARD_LOG_FORMAT",
        description="`json`: one object per line with `request_id`, `trace_id` and `span_id` (for log shippers); "
        "`text`: one readable line, with the request id in brackets (for a terminal).",
    )
    traces_exporter: TraceExporter = Field(
        "none",
        validation_alias="SWITCHBOARD_TRACES_EXPORTER",
        description="Where spans go. `none` still continues and propagates W3C trace context (ids reach the logs "
        "and every hop) but records nothing; `otlp` sends spans over OTLP/HTTP to the collector named by the "
        "standard `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (and `_HEADERS`, "
        "`_TIMEOUT`); `console` prints them.",
    )
    trace_sample_ratio: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        validation_alias="SWITCHBOARD_TRACE_SAMPLE_RATIO",
        description="With an exporter: the share of new traces recorded. A caller's sampled `traceparent` is "
        "always followed.",
    )

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.subject_prefix)

    def configure_observability(self, service: str) -> TracerProvider:
        """Logs and traces of this process as configured; shut the returned provider down on exit (flushes spans)."""
        configure_logging(service, self.log_level, self.log_format)
        return configure_tracing(service, self.traces_exporter, self.trace_sample_ratio)

    def nats_servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]
