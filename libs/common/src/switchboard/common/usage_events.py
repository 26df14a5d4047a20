"""Bus messages of metering: usage queries answered from the ledger, metering's own status, dead letters.

The same rules as ``switchboard.common.events`` apply: frozen models, unknown fields ignored.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from switchboard.common.events import SCHEMA_VERSION, CompletionRecorded, utc_now

__all__ = [
    "CompletionDeadLettered",
    "MeteringStatus",
    "QueryUsage",
    "UsageBreakdown",
    "UsageReported",
    "UsageTotals",
]


class _Message(BaseModel):
    """A metering message (unknown fields ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_attribute_docstrings=True)


class QueryUsage(_Message):
    """Request on ``Subjects.query_usage``: one user's usage over a date range (UTC days, both ends included)."""

    schema_version: int = SCHEMA_VERSION
    user_id: str | None
    """``None``: every user together (only the gateway's admin routes ask this)."""
    start: date
    end: date


class UsageTotals(_Message):
    """What a set of completions consumed."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    tool_calls: int = 0
    """Client-visible ``tool_use`` blocks plus MCP tool calls an agent ran."""
    execution_ms: float = 0.0


class UsageBreakdown(UsageTotals):
    """Totals of one day (``key`` = ``YYYY-MM-DD``) or one model (``key`` = the requested model)."""

    key: str


class UsageReported(_Message):
    """Reply to ``Subjects.query_usage``, read from metering's ledger."""

    schema_version: int = SCHEMA_VERSION
    user_id: str | None
    start: date
    end: date
    totals: UsageTotals
    by_day: list[UsageBreakdown] = Field(default_factory=list)
    by_model: list[UsageBreakdown] = Field(default_factory=list)


class MeteringStatus(_Message):
    """Reply to ``Subjects.metering_status``: how far billing is behind, and whether Lago answers."""

    schema_version: int = SCHEMA_VERSION
    pending: int
    """Completions in the usage stream not yet billed (the durable consumer's pending count)."""
    oldest_unbilled_at: AwareDatetime | None = None
    lag_seconds: float = 0.0
    """Age of the oldest unbilled completion; 0 when nothing waits."""
    lago_reachable: bool | None = None
    """``None``: Lago is not configured (usage is recorded in the ledger only)."""
    dead_letters: int = 0
    occurred_at: AwareDatetime = Field(default_factory=utc_now)


class CompletionDeadLettered(_Message):
    """Fact: Lago permanently refused a completion's usage event; kept in the dead-letter stream for replay."""

    schema_version: int = SCHEMA_VERSION
    completion: CompletionRecorded
    reason: str
    """What Lago answered (status and error details); never a secret."""
    lago_status: int | None = None
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
