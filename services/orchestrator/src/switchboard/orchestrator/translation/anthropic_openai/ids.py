"""Identifiers that cross the translation: tool call ids and end-user ids."""

from __future__ import annotations

import hashlib
import re

from switchboard.common.ids import new_tool_use_id

__all__ = ["anthropic_tool_use_id", "openai_tool_call_id", "openai_user"]

_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")
_SAFE_USER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def anthropic_tool_use_id(call_id: str | None) -> str:
    """A ``toolu_…`` id for an OpenAI tool call id; deterministic, so a stream and its replay agree.

    The OpenAI id is kept inside it, and ``openai_tool_call_id`` sends the whole ``toolu_…`` id back as the
    call id, which OpenAI-compatible servers accept as long as the assistant turn and the tool turn agree.
    """
    if not call_id:
        return new_tool_use_id()
    if call_id.startswith("toolu_"):
        return _SAFE_ID.sub("_", call_id)
    return "toolu_" + _SAFE_ID.sub("_", call_id)


def openai_tool_call_id(tool_use_id: str) -> str:
    """The call id to send for an Anthropic ``tool_use``/``tool_result`` id (the same string)."""
    return tool_use_id


def openai_user(user_id: str | None) -> str | None:
    """``metadata.user_id`` as an OpenAI ``user``: kept if short and plain, else a stable hash.

    Claude Code sends ~150-character JSON here; providers cap ``user`` at 64 characters or to ``[A-Za-z0-9_-]``.
    """
    if not user_id:
        return None
    if _SAFE_USER.fullmatch(user_id):
        return user_id
    return "sb-" + hashlib.sha256(user_id.encode()).hexdigest()[:32]
