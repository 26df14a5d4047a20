"""Scripted assistant turns of the fake OpenAI-compatible server, whole or as a list of stream steps.

Pure functions, no I/O: `plan_reply` decides the content, `completion_json` renders a `chat.completion`,
and `stream_steps` renders `chat.completion.chunk` frames interleaved with the pauses and faults that
the server then plays on the wire.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .delta_pacer import DeltaPacer, Drop, Pause
from .openai_directives import Directives
from .openai_tool_calls import ToolCall, plan_tool_calls, tool_call_fragments
from .openai_wire import new_id

__all__ = [
    "DEFAULT_TEXT",
    "REASONING_TEXT",
    "Done",
    "Drop",
    "Emit",
    "Pause",
    "Reply",
    "Step",
    "completion_json",
    "estimate_prompt_tokens",
    "plan_reply",
    "stream_steps",
]

DEFAULT_TEXT = "Hello from the fake OpenAI provider."
REASONING_TEXT = "Let me think about this."
_FINGERPRINT = "fp_fake"
_MIDSTREAM_ERROR = {"error": {"message": "upstream overloaded", "type": "server_error", "code": "503"}}


@dataclass(frozen=True)
class Emit:
    """Send one `data:` frame; `final` frames (a mid-stream error) end the stream without `[DONE]`."""

    payload: dict[str, Any]
    final: bool = False


@dataclass(frozen=True)
class Done:
    """Send `data: [DONE]` and end the stream."""


Step = Emit | Done | Pause | Drop


@dataclass(frozen=True)
class Reply:
    """One assistant turn; `content` is None for a tool-only answer."""

    completion_id: str
    model: str
    created: int
    content: str | None
    reasoning: str | None
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    vllm_stop: str | None
    usage: dict[str, Any]


def estimate_prompt_tokens(body: dict[str, Any]) -> int:
    """Deterministic estimate: a quarter of the compact JSON length of `messages`, at least 1."""
    text = json.dumps(body.get("messages"), sort_keys=True, separators=(",", ":"))
    return max(1, len(text) // 4)


def plan_reply(body: dict[str, Any], directives: Directives) -> Reply:
    tool_calls = plan_tool_calls(body, directives)
    content = _content(directives, has_tools=bool(tool_calls))
    finish = "tool_calls" if tool_calls else "stop"
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if content is not None and not tool_calls and isinstance(limit, int) and len(_words(content)) > limit:
        content, finish = "".join(_words(content)[:limit]).rstrip(), "length"
    reasoning = REASONING_TEXT if directives.reasoning else None
    return Reply(
        completion_id=new_id("chatcmpl", 29),
        model=str(body.get("model", "")),
        created=int(time.time()),
        content=content,
        reasoning=reasoning,
        tool_calls=tool_calls,
        finish_reason=directives.finish or finish,
        vllm_stop=directives.vllm_stop,
        usage=_usage(body, directives, content, reasoning, tool_calls),
    )


def completion_json(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
    if reply.reasoning is not None:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [call.message_json() for call in reply.tool_calls]
    choice = {"index": 0, "message": message, "logprobs": None, **_finish(reply)}
    return {**_head(reply, "chat.completion"), "choices": [choice], "usage": reply.usage}


def stream_steps(reply: Reply, directives: Directives, *, include_usage: bool) -> Iterator[Step]:
    """Role chunk, reasoning, content, tool-call fragments, finish chunk, optional usage chunk, `[DONE]`."""
    extra = {"usage": None} if include_usage else {}
    yield Emit(_chunk(reply, {"role": "assistant", "content": ""}, extra))
    pacer = DeltaPacer(directives, Emit(_MIDSTREAM_ERROR, final=True))
    yield from pacer.pace(Emit(_chunk(reply, delta, extra)) for delta in _deltas(reply, directives))
    yield Emit(_chunk(reply, {}, extra, **_finish(reply)))
    if include_usage:
        yield Emit({**_head(reply, "chat.completion.chunk"), "choices": [], "usage": reply.usage})
    yield Done()


def _content(directives: Directives, *, has_tools: bool) -> str | None:
    if directives.text is not None:
        return directives.text
    if directives.words is not None:
        return " ".join(f"word{n}" for n in range(1, directives.words + 1))
    return None if has_tools else DEFAULT_TEXT


def _usage(
    body: dict[str, Any],
    directives: Directives,
    content: str | None,
    reasoning: str | None,
    calls: tuple[ToolCall, ...],
) -> dict[str, Any]:
    prompt = estimate_prompt_tokens(body) + directives.cached
    reasoning_tokens = len((reasoning or "").split())
    completion = len((content or "").split()) + reasoning_tokens + sum(len(call.arguments.split()) for call in calls)
    completion = max(1, completion)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if directives.cached:
        usage["prompt_tokens_details"] = {"cached_tokens": directives.cached}
    if reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return usage


def _finish(reply: Reply) -> dict[str, Any]:
    finish: dict[str, Any] = {"finish_reason": reply.finish_reason}
    if reply.vllm_stop is not None:
        finish = {"finish_reason": "stop", "stop_reason": reply.vllm_stop}
    return finish


def _head(reply: Reply, kind: str) -> dict[str, Any]:
    return {
        "id": reply.completion_id,
        "object": kind,
        "created": reply.created,
        "model": reply.model,
        "system_fingerprint": _FINGERPRINT,
    }


def _chunk(reply: Reply, delta: dict[str, Any], extra: dict[str, Any], **finish: Any) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None, **finish}
    return {**_head(reply, "chat.completion.chunk"), "choices": [choice], **extra}


def _deltas(reply: Reply, directives: Directives) -> Iterator[dict[str, Any]]:
    for word in _words(reply.reasoning or ""):
        yield {"reasoning_content": word}
    for word in _words(reply.content or ""):
        yield {"content": word}
    for fragment in tool_call_fragments(reply.tool_calls, directives):
        yield {"tool_calls": [fragment]}


def _words(text: str) -> list[str]:
    """One piece per word, each keeping its trailing whitespace, so the pieces join back to `text`."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
