"""An Anthropic Messages request body → an OpenAI Chat Completions request body.

Anthropic bodies are an open set, so every top-level field is either translated, dropped for a documented reason
(``_DROPPED``) or rejected with a 400 naming it: nothing that changes the answer disappears silently.

Explicit degrades: ``cache_control`` (system, blocks, tools, top level) is not carried (OpenAI has no cache
breakpoints; providers cache prefixes themselves), ``top_k`` has no OpenAI equivalent, ``stop_sequences`` beyond
the 4 OpenAI accepts are cut, ``max_tokens`` is clamped to the route's ``max_output_tokens`` (P29), unverifiable
thinking is dropped, and blocks OpenAI cannot express (server tool history, tool changes, URL/Files-API
documents) become bracketed text notes (see ``request_blocks`` and ``request_messages``).
Rejected (400): Anthropic server tools, unknown block/source types, unknown top-level fields, and under
``anthropic-version: 2026-10-21`` the fields and blocks that version removed.
"""

from __future__ import annotations

from typing import Any

from switchboard.common.errors import InvalidRequestError

from .ids import openai_user
from .request_messages import openai_messages
from .request_tools import tool_fields
from .signatures import ThinkingSigner

__all__ = ["to_openai_request"]

_VERSION_2026 = "2026-10-21"
# MIG: 2026-10-21 answers 400 for these, even at their default values.
_REMOVED_IN_2026 = frozenset({"temperature", "top_p", "top_k"})

_TRANSLATED = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "stream",
        "stop_sequences",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "thinking",
        "metadata",
        "output_config",
    }
)
# Anthropic fields with no OpenAI meaning, each dropped for the reason given.
_DROPPED: dict[str, str] = {
    "top_k": "no OpenAI sampling equivalent; the provider's default applies",
    "cache_control": "automatic prompt caching; OpenAI-compatible providers cache prefixes on their own",
    "context_management": "server-side clearing of old tool results/thinking; the provider sees the full history",
    "service_tier": "Anthropic capacity tier; the route decides the provider",
    "container": "container of Anthropic code-execution tools, which are rejected with the tools anyway",
    "inference_geo": "Anthropic data-residency routing; where the provider runs is a route setting",
    "speed": "Anthropic fast mode",
    "diagnostics": "Anthropic debugging aid (previous_message_id)",
    "user_profile_id": "Anthropic account routing; the gateway already authenticated and routed the request",
    "workspace_id": "Anthropic account routing; the gateway already authenticated and routed the request",
}
_OUTPUT_CONFIG_KEYS = frozenset({"effort", "format"})
_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_MAX_STOP = 4  # OpenAI's limit on ``stop``


def to_openai_request(
    body: dict[str, Any],
    *,
    upstream_model: str,
    api_version: str,
    signer: ThinkingSigner,
    max_output_tokens: int | None = None,
) -> dict[str, Any]:
    """The OpenAI ``/chat/completions`` body for ``body``; raises ``InvalidRequestError`` naming the field."""
    strict = api_version == _VERSION_2026
    _check_fields(body, strict)
    model = body["model"] if isinstance(body.get("model"), str) else upstream_model
    request: dict[str, Any] = {
        "model": upstream_model,
        "messages": openai_messages(body, strict=strict, signer=signer),
        "max_tokens": _max_tokens(body.get("max_tokens"), max_output_tokens),
    }
    request.update(_sampling(body))
    request.update(tool_fields(body, model=model))
    request.update(_output_fields(body))
    user = _user(body.get("metadata"))
    if user is not None:
        request["user"] = user  # P28: sanitised or hashed, never the raw Claude Code JSON
    request["stream"] = body.get("stream") is True
    if request["stream"]:
        request["stream_options"] = {"include_usage": True}  # else OpenAI streams carry no usage at all
    return request


def _check_fields(body: dict[str, Any], strict: bool) -> None:
    for name in body:
        if strict and name in _REMOVED_IN_2026:
            raise InvalidRequestError(f"{name}: Extra inputs are not permitted")
        if name not in _TRANSLATED and name not in _DROPPED:
            raise InvalidRequestError(
                f"{name}: not supported when this model is served by an OpenAI-compatible provider"
            )


def _max_tokens(value: object, limit: int | None) -> int:
    if value is None:
        raise InvalidRequestError("max_tokens: Field required")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidRequestError("max_tokens: Input should be a non-negative integer")
    return value if limit is None else min(value, limit)


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    fields = {name: body[name] for name in ("temperature", "top_p") if body.get(name) is not None}
    stops = body.get("stop_sequences")
    if stops is None or stops == []:
        return fields
    if not isinstance(stops, list) or not all(isinstance(stop, str) for stop in stops):
        raise InvalidRequestError("stop_sequences: Input should be a valid list of strings")
    fields["stop"] = stops[:_MAX_STOP]  # P11: OpenAI's name; it rejects `stop_sequences`
    return fields


def _output_fields(body: dict[str, Any]) -> dict[str, Any]:
    config = body.get("output_config") or {}
    if not isinstance(config, dict):
        raise InvalidRequestError("output_config: Input should be a valid dictionary")
    for key in config:
        if key not in _OUTPUT_CONFIG_KEYS:
            raise InvalidRequestError(
                f"output_config.{key}: not supported when this model is served by an OpenAI-compatible provider"
            )
    fields: dict[str, Any] = {}
    effort = _reasoning_effort(body.get("thinking"), config.get("effort"))
    if effort is not None:
        fields["reasoning_effort"] = effort
    if config.get("format") is not None:
        fields["response_format"] = _response_format(config["format"])
    return fields


def _reasoning_effort(thinking: object, effort: object) -> str | None:
    """``output_config.effort`` when given, else a bucket of the thinking budget."""
    if effort is not None:
        if not isinstance(effort, str) or effort not in _EFFORT:
            raise InvalidRequestError("output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'")
        return _EFFORT[effort]
    if thinking is None:
        return None
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind == "enabled":
        budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
        if not isinstance(budget, int) or isinstance(budget, bool):
            raise InvalidRequestError("thinking.budget_tokens: Input should be a valid integer")
        return "low" if budget < 4096 else "medium" if budget < 16384 else "high"
    if kind in ("adaptive", "between_tools"):
        return "medium"  # the amount is left to the model: the provider's middle setting
    if kind == "disabled":
        return None
    raise InvalidRequestError(f"thinking.type: Input should be 'enabled', 'adaptive' or 'disabled', not {kind!r}")


def _response_format(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or value.get("type") != "json_schema" or not isinstance(value.get("schema"), dict):
        raise InvalidRequestError("output_config.format: only {type: json_schema, schema} is supported for this model")
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": value["schema"], "strict": True}}


def _user(metadata: object) -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidRequestError("metadata: Input should be a valid dictionary")
    user_id = metadata.get("user_id")  # the only metadata key OpenAI has a place for; others are dropped
    return openai_user(user_id) if isinstance(user_id, str) else None
