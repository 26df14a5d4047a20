"""What the load is sent to: a target is one system (direct, Switchboard, LiteLLM) on one dialect's path.

Every target but the direct ones takes the same Anthropic Messages request; ``native`` reaches the fake's
Messages API and ``translated`` its Chat Completions API. The direct targets are each dialect's baseline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["PACED", "Dialect", "System", "Target", "baseline_of"]

System = Literal["direct", "switchboard", "litellm"]
Dialect = Literal["native", "translated"]

PACED = "-paced"
"""Suffix of the model names the fake streams one delta at a time (to time the gaps between chunks)."""

_PROMPT = [{"role": "user", "content": "Say hello in sixteen words."}]


@dataclass(frozen=True)
class Target:
    system: System
    dialect: Dialect
    base_url: str
    headers: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return f"{self.system}-{self.dialect}"

    @property
    def openai_wire(self) -> bool:
        """Only the direct translated target is called in OpenAI's own format."""
        return self.system == "direct" and self.dialect == "translated"

    @property
    def url(self) -> str:
        return self.base_url + ("/v1/chat/completions" if self.openai_wire else "/v1/messages")

    @property
    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.base_url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def token_marker(self) -> bytes:
        """A byte string that occurs once per streamed text delta."""
        return b'"delta":{"content"' if self.openai_wire else b"event: content_block_delta"

    def model(self, *, paced: bool = False) -> str:
        base = "gpt-bench" if self.dialect == "translated" else "claude-bench"
        return base + (PACED if paced else "")

    def body(self, *, stream: bool, paced: bool = False) -> bytes:
        document: dict[str, object] = {"model": self.model(paced=paced), "max_tokens": 256, "messages": _PROMPT}
        if stream:
            document["stream"] = True
            if self.openai_wire:
                document["stream_options"] = {"include_usage": True}
        return json.dumps(document, separators=(",", ":")).encode()

    def request_headers(self) -> dict[str, str]:
        wire = {} if self.openai_wire else {"anthropic-version": "2023-06-01"}
        return {"content-type": "application/json", **wire, **dict(self.headers)}


def baseline_of(target: Target, targets: list[Target]) -> Target:
    """The direct target of ``target``'s dialect: what its added latency is measured against."""
    return next(t for t in targets if t.system == "direct" and t.dialect == target.dialect)
