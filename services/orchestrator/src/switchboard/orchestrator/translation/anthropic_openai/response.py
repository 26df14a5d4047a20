"""An OpenAI ``chat.completion`` → an Anthropic ``Message`` (the non-streaming reply, also Claude Code's fallback).

Malformed tool arguments raise :class:`MalformedCompletionError` (502 ``api_error``) instead of being passed on
as ``{"_raw_arguments": …}``: a made-up input would run the tool with arguments the model never gave, while a
502 is retried by Claude Code. The exception is a call cut off by ``max_tokens`` (``finish_reason: "length"``):
that is the model running out of room, not a broken provider, so the truncated call is dropped (a non-streaming
``tool_use.input`` must be an object) and, unless finished calls remain, the reply says ``max_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from switchboard.common.errors import UpstreamUnavailableError
from switchboard.common.ids import new_message_id
from switchboard.orchestrator.token_estimate import estimate_text_tokens

from .ids import anthropic_tool_use_id
from .signatures import ThinkingSigner
from .stop_reasons import anthropic_stop
from .usage import anthropic_usage

__all__ = [
    "MalformedCompletionError",
    "provider_stop",
    "reasoning_text",
    "to_anthropic_message",
    "tool_input",
]


class MalformedCompletionError(UpstreamUnavailableError):
    """The provider answered 200 with something that cannot be translated (no choices, broken tool calls)."""


def to_anthropic_message(
    completion: Mapping[str, Any],
    *,
    requested_model: str,
    stop_sequences: Sequence[str],
    signer: ThinkingSigner,
    input_estimate: int,
) -> dict[str, Any]:
    """The ``Message`` for ``completion``, named after ``requested_model`` (the client's name for the model)."""
    choice = _first_choice(completion)
    message = _mapping(choice.get("message"))
    finish = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None
    thinking = reasoning_text(message)
    text, refused = _message_text(message)
    tool_uses = _tool_uses(message, truncated_ok=finish == "length")
    stop_reason, stop_sequence = anthropic_stop(
        "content_filter" if refused else finish,
        has_tool_use=bool(tool_uses),
        content_text=text,
        stop_sequences=stop_sequences,
        provider_stop=provider_stop(choice),
    )
    if stop_sequence is not None and text.endswith(stop_sequence):
        text = text[: -len(stop_sequence)]  # Anthropic never includes the stop sequence in the content
    content: list[dict[str, Any]] = []
    if thinking:
        content.append({"type": "thinking", "thinking": thinking, "signature": signer.sign(thinking)})
    if text.strip():  # an empty or blank text block poisons the conversation when replayed (P8)
        content.append({"type": "text", "text": text})
    content.extend(tool_uses)
    generated = thinking + text + "".join(json.dumps(block["input"]) for block in tool_uses)
    usage = anthropic_usage(
        _mapping(completion.get("usage")) or None,
        input_estimate=input_estimate,
        output_estimate=estimate_text_tokens(generated),
    )
    return {
        "id": new_message_id(),  # ours and fresh: providers' ids repeat across requests (P38)
        "type": "message",
        "role": "assistant",
        "model": requested_model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage,
    }


def reasoning_text(message_or_delta: Mapping[str, Any]) -> str:
    """The reasoning a message or delta carries: ``reasoning_content`` (vLLM, DeepSeek, LiteLLM) or ``reasoning``."""
    for key in ("reasoning_content", "reasoning"):
        value = message_or_delta.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def provider_stop(choice: Mapping[str, Any]) -> str | int | None:
    """The stop string (or token id) that ended the choice: vLLM ``stop_reason``, SGLang ``matched_stop``."""
    for key in ("stop_reason", "matched_stop"):
        value = choice.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
    return None


def tool_input(arguments: object) -> dict[str, Any] | None:
    """Tool call arguments as an ``input`` object; ``None`` when they are not a JSON object.

    Absent, blank and ``null`` arguments are ``{}`` (no-argument tools). Some servers send an object
    instead of the JSON string the OpenAI API specifies; it is taken as is.
    """
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        return {}
    if not isinstance(arguments, str):
        return None
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return None
    if parsed is None:
        return {}
    return parsed if isinstance(parsed, dict) else None


def _first_choice(completion: Mapping[str, Any]) -> Mapping[str, Any]:
    choices = completion.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise MalformedCompletionError("upstream provider returned a completion without choices")
    return choices[0]


def _message_text(message: Mapping[str, Any]) -> tuple[str, bool]:
    """``(text, refused)``: ``content`` as a string or a list of text parts; an OpenAI ``refusal`` is text too."""
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(
            part["text"] for part in content if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    text = content if isinstance(content, str) else ""
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        return text + refusal, True
    return text, False


def _tool_uses(message: Mapping[str, Any], *, truncated_ok: bool) -> list[dict[str, Any]]:
    calls = message.get("tool_calls")
    raw_calls = list(calls) if isinstance(calls, list) else []
    if isinstance(message.get("function_call"), Mapping):  # the pre-tools API: one call, no id
        raw_calls.append({"function": message["function_call"]})
    blocks: list[dict[str, Any]] = []
    used_ids: set[str] = set()
    for raw in raw_calls:
        call = _mapping(raw)
        function = _mapping(call.get("function"))
        name = function.get("name")
        arguments = tool_input(function.get("arguments"))
        if not name and arguments == {}:
            continue  # neither name nor arguments: an empty entry, not a call
        if not isinstance(name, str) or not name or arguments is None:
            if truncated_ok:
                continue  # cut off by max_tokens mid-call: not a call the model finished
            raise MalformedCompletionError("upstream provider returned malformed tool arguments")
        call_id = call.get("id") if isinstance(call.get("id"), str) else None
        tool_use_id = anthropic_tool_use_id(call_id)
        if tool_use_id in used_ids:  # some servers number calls per turn ("call_0") and repeat them
            tool_use_id = anthropic_tool_use_id(None)
        used_ids.add(tool_use_id)
        blocks.append({"type": "tool_use", "id": tool_use_id, "name": name, "input": arguments})
    return blocks


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
