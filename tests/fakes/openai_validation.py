"""The request checks of the Chat Completions API that translating gateways most often trip over.

Each returns OpenAI's own 400 wording, so a gateway bug shows up as the same error it would get in
production: unknown parameters (`stop_sequences`), `tool_choice` without tools, empty `tools`,
`stream_options` without `stream`, and tool results that do not pair with the assistant's tool calls.
"""

from __future__ import annotations

from typing import Any

__all__ = ["KNOWN_PARAMETERS", "RequestInvalidError", "validate_request"]

KNOWN_PARAMETERS = frozenset(
    {
        "model", "messages", "stream", "stream_options", "temperature", "top_p", "n", "stop", "max_tokens",
        "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
        "user", "tools", "tool_choice", "parallel_tool_calls", "response_format", "seed", "service_tier", "store",
        "metadata", "reasoning_effort", "modalities", "audio", "prediction", "web_search_options",
        "prompt_cache_key", "safety_identifier", "verbosity", "functions", "function_call",
    }
)  # fmt: skip
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class RequestInvalidError(Exception):
    """A 400 `invalid_request_error`; `param` and `code` as OpenAI fills them."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def validate_request(body: dict[str, Any], *, strict: bool) -> None:
    """Raise `RequestInvalidError` for the first problem; `strict` also rejects unknown top-level fields."""
    if "model" not in body:
        raise RequestInvalidError("you must provide a model parameter")
    if "messages" not in body:
        raise RequestInvalidError("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    unknown = sorted(set(body) - KNOWN_PARAMETERS)
    if strict and unknown:
        raise RequestInvalidError(f"Unrecognized request argument supplied: {unknown[0]}")
    _check_tools(body)
    if "stream_options" in body and body.get("stream") is not True:
        message = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        raise RequestInvalidError(message, "stream_options", "invalid_value")
    _check_messages(body["messages"])


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools == []:
        message = (
            "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead."
        )
        raise RequestInvalidError(message, "tools", "empty_array")
    if "tool_choice" in body and not tools:
        message = "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."
        raise RequestInvalidError(message, "tool_choice")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise RequestInvalidError("Invalid 'messages': empty array.", "messages", "empty_array")
    pending: list[str] = []  # tool_call ids still waiting for their tool message
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in _ROLES:
            raise RequestInvalidError(
                f"Invalid value: '{role}'. Supported values are: {sorted(_ROLES)}", f"messages[{index}].role"
            )
        assert isinstance(message, dict)
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                message_text = (
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'."
                )
                raise RequestInvalidError(message_text, f"messages.[{index}].role")
            pending.remove(call_id)
            continue
        _require_answered(pending, index)
        if role == "assistant":
            pending = [str(call.get("id")) for call in message.get("tool_calls") or [] if isinstance(call, dict)]
    _require_answered(pending, len(messages))


def _require_answered(pending: list[str], index: int) -> None:
    if pending:
        message = (
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}"
        )
        raise RequestInvalidError(message, f"messages.[{index}].role")
