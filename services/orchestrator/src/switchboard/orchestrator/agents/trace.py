"""What an agent did for one request, for the ``CompletionRecorded`` fact."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.common.events import ToolCallRecord

__all__ = ["AgentTrace"]


@dataclass
class AgentTrace:
    name: str
    iterations: int = 0
    """Provider calls made."""
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
