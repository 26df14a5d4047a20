"""Bus messages of metering: usage queries answered from the ledger, metering's own status, dead letters.

The same rules as ``switchboard.common.events`` apply: frozen models, unknown fields ignored.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from switchboard.common.events import SCHEMA_VERSION, CompletionRecorded, utc_now

__all__ = [
    "DEAD_LETTERS_DEFAULT_LIMIT",
    "DEAD_LETTERS_MAX_LIMIT",
    "CompletionDeadLettered",
    "DeadLetter",
    "DeadLettersListed",
    "MeteringStatus",
    "QueryDeadLetters",
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
    mcp_tool_calls: int = 0
    """MCP tool calls an agent ran on the user's connectors (server-side; also counted in ``tool_calls``).
    Ledger rows written before this field existed count 0 here (and 0 errors), their ``tool_calls`` unchanged."""
    mcp_tool_errors: int = 0
    """Those of ``mcp_tool_calls`` whose result was an error: the success rate is
    ``1 - mcp_tool_errors / mcp_tool_calls``."""
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


DEAD_LETTERS_DEFAULT_LIMIT = 50
DEAD_LETTERS_MAX_LIMIT = 500


class QueryDeadLetters(_Message):
    """Request on ``Subjects.query_dead_letters``: the newest dead letters, for an administrator to look at."""

    schema_version: int = SCHEMA_VERSION
    limit: int = Field(default=DEAD_LETTERS_DEFAULT_LIMIT, ge=1, le=DEAD_LETTERS_MAX_LIMIT)
    """How many to list (1 to 500)."""
    user_id: str | None = None
    """Only this user's dead letters; ``None``: everyone's."""


class DeadLetter(_Message):
    """One message of the dead-letter stream, as listed (the completion itself stays in the stream)."""

    sequence: int
    """Its sequence in ``Subjects.usage_dead_letter_stream``."""
    request_id: str | None
    """``None`` for a malformed usage message (there was no completion to read)."""
    user_id: str
    """The completion's user; for a malformed message, the user token of the subject it came on."""
    model: str | None
    """The requested model; ``None`` for a malformed message."""
    reason: str
    """What Lago answered, or ``malformed`` for a usage message that could not be read."""
    lago_status: int | None = None
    """Lago's HTTP status; ``None`` for a malformed message."""
    occurred_at: AwareDatetime
    """When the completion was dead-lettered."""


class DeadLettersListed(_Message):
    """Reply to ``Subjects.query_dead_letters``: how many dead letters wait, and the newest of them."""

    schema_version: int = SCHEMA_VERSION
    total: int
    """Every dead letter in the stream (of ``user_id`` when the query named one), however many are listed."""
    items: list[DeadLetter] = Field(default_factory=list)
    """Newest first, at most ``limit``."""
