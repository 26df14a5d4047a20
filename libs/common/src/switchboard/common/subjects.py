"""The one registry of NATS subjects and JetStream streams.

Grammar: ``<prefix>.<domain>.<event>[.<id>]``. The prefix is configurable so that several deployments (or test
runs) can share one NATS account without seeing each other's traffic.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["GATEWAY_QUEUE", "METERING_QUEUE", "ORCHESTRATOR_QUEUE", "TOOL_BROKER_QUEUE", "Subjects", "subject_token"]

ORCHESTRATOR_QUEUE = "orchestrator"
"""Queue group shared by every orchestrator replica: each request goes to exactly one of them."""
TOOL_BROKER_QUEUE = "tool-broker"
"""Queue group shared by every tool-broker replica."""
METERING_QUEUE = "metering"
"""Queue group shared by every metering replica (usage queries, status)."""
GATEWAY_QUEUE = "api-gateway"
"""Queue group shared by every api-gateway replica (for requests any of them may answer)."""

_UNSAFE_TOKEN_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")


def subject_token(value: str) -> str:
    """Turn an arbitrary id (user id, key id) into one safe subject token; distinct ids give distinct tokens.

    An id that is already safe stays as it is (readable in ``switchboard tap``). Any other is sanitised and gets a
    hash suffix, so ``a.b`` and ``a_b`` never share a subject (a rate-limit counter, a connector's deliveries).
    """
    if _SAFE_TOKEN.fullmatch(value):
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
    return f"{_UNSAFE_TOKEN_CHARS.sub('_', value)[:64]}-x{digest}"


@dataclass(frozen=True, slots=True)
class Subjects:
    """Every subject name Switchboard publishes or subscribes to, for one prefix."""

    prefix: str = "switchboard"

    # --- llm: the request path (core NATS) ---------------------------------------------------------------
    @property
    def execute_request(self) -> str:
        """Command ``ExecuteRequest``: gateway -> one orchestrator (queue group ``orchestrator``)."""
        return f"{self.prefix}.llm.execute"

    def cancel_request(self, request_id: str) -> str:
        """Command ``CancelRequest``: gateway -> every orchestrator; the one running it stops."""
        return f"{self.prefix}.llm.cancel.{subject_token(request_id)}"

    @property
    def cancel_request_all(self) -> str:
        """Wildcard an orchestrator subscribes to for cancellations."""
        return f"{self.prefix}.llm.cancel.*"

    @property
    def list_models(self) -> str:
        """Request/reply (``ListModels`` → ``ModelsListed``): the models the routes and the caller's own keys serve."""
        return f"{self.prefix}.llm.list_models"

    def reply_prefix(self, gateway_id: str) -> str:
        """Where one gateway replica receives ``StreamFrame``s for all of its requests."""
        return f"{self.prefix}.reply.{subject_token(gateway_id)}"

    def reply(self, gateway_id: str, request_id: str) -> str:
        """The reply subject of one request."""
        return f"{self.reply_prefix(gateway_id)}.{subject_token(request_id)}"

    # --- health --------------------------------------------------------------------------------------------
    def ping(self, service: str) -> str:
        """Request/reply liveness probe answered by any replica of ``service``."""
        return f"{self.prefix}.{subject_token(service)}.ping"

    # --- usage: durable facts (JetStream) -----------------------------------------------------------------
    def completion_recorded(self, user_id: str) -> str:
        """Event ``CompletionRecorded`` for one user, stored in the usage stream."""
        return f"{self.prefix}.usage.completion_recorded.{subject_token(user_id)}"

    @property
    def completion_recorded_all(self) -> str:
        """Wildcard over every user's ``CompletionRecorded`` events (what metering consumes)."""
        return f"{self.prefix}.usage.completion_recorded.*"

    @property
    def usage_stream(self) -> str:
        """JetStream stream holding every usage fact until it is billed."""
        return f"{_stream_name(self.prefix)}_USAGE"

    @property
    def usage_stream_subjects(self) -> list[str]:
        """Subjects the usage stream captures."""
        return [f"{self.prefix}.usage.>"]

    # --- metering ------------------------------------------------------------------------------------------
    @property
    def usage_consumer(self) -> str:
        """Durable JetStream consumer of the usage stream that every metering replica shares."""
        return "metering"

    @property
    def query_usage(self) -> str:
        """Request/reply (``QueryUsage`` → ``UsageReported``) answered by any metering replica from its ledger."""
        return f"{self.prefix}.metering.query_usage"

    @property
    def metering_status(self) -> str:
        """Request/reply (``{}`` → ``MeteringStatus``): billing lag, Lago reachability, dead letters."""
        return f"{self.prefix}.metering.status"

    @property
    def query_dead_letters(self) -> str:
        """Request/reply (``QueryDeadLetters`` → ``DeadLettersListed``): the newest dead letters, any replica."""
        return f"{self.prefix}.metering.query_dead_letters"

    def usage_dead_lettered(self, user_id: str) -> str:
        """Event ``CompletionDeadLettered``: Lago refused a completion for good; kept for ``metering replay``."""
        return f"{self.prefix}.metering.dead_letter.{subject_token(user_id)}"

    @property
    def usage_dead_letter_stream(self) -> str:
        """JetStream stream of completions Lago refused (kept until replayed)."""
        return f"{_stream_name(self.prefix)}_USAGE_DLQ"

    @property
    def usage_dead_letter_stream_subjects(self) -> list[str]:
        """Subjects the dead-letter stream captures."""
        return [f"{self.prefix}.metering.dead_letter.>"]

    # --- tools: users' MCP connectors (tool-broker) -----------------------------------------------------
    @property
    def list_tools(self) -> str:
        """Request/reply (``ListTools`` → ``ToolsListed``): a user's registered MCP tools; any tool-broker answers."""
        return f"{self.prefix}.tool.list"

    def execute_tool_call(self, user_id: str) -> str:
        """Request ``ExecuteToolCall`` → ``ToolCallCompleted``: orchestrator -> any tool-broker (queue group)."""
        return f"{self.prefix}.tool.execute.{subject_token(user_id)}"

    @property
    def execute_tool_call_all(self) -> str:
        """Wildcard every tool-broker replica subscribes to (queue group ``tool-broker``)."""
        return f"{self.prefix}.tool.execute.*"

    def deliver_tool_call(self, user_id: str, server_id: str) -> str:
        """Request ``ExecuteToolCall``: broker -> a replica holding a live WebSocket connector for the server.

        Only replicas with such a connector subscribe (queue group ``tool-broker``), so NATS itself routes the
        call to one of them; "no responders" means no live connector anywhere.
        """
        return f"{self.prefix}.tool.deliver.{subject_token(user_id)}.{subject_token(server_id)}"

    def tool_queue(self, user_id: str, server_id: str) -> str:
        """``ExecuteToolCall`` waiting in JetStream for a polling connector of the server."""
        return f"{self.prefix}.tool.queue.{subject_token(user_id)}.{subject_token(server_id)}"

    @property
    def tool_queue_stream(self) -> str:
        """JetStream stream of calls waiting for polling connectors."""
        return f"{_stream_name(self.prefix)}_TOOL_CALLS"

    @property
    def tool_queue_stream_subjects(self) -> list[str]:
        """Subjects the tool-call queue stream captures."""
        return [f"{self.prefix}.tool.queue.>"]

    @property
    def tool_servers_bucket(self) -> str:
        """KV bucket: each user's registered MCP servers and their tools (``<user>.<server>``)."""
        return f"{_stream_name(self.prefix)}_MCP_SERVERS"

    @property
    def tool_connections_bucket(self) -> str:
        """KV bucket: live connectors (``<user>.<connection>``), refreshed by their broker, expiring if it dies."""
        return f"{_stream_name(self.prefix)}_MCP_CONNECTIONS"

    @property
    def tool_pending_bucket(self) -> str:
        """KV bucket: calls handed to polling connectors and not yet answered (``<call_id>``)."""
        return f"{_stream_name(self.prefix)}_MCP_PENDING"

    # --- accounts (gateway replicas among themselves) ---------------------------------------------------
    @property
    def verify_credential(self) -> str:
        """Request/reply (``VerifyCredential`` → ``CredentialVerified``) answered by any gateway replica."""
        return f"{self.prefix}.accounts.verify_credential"

    @property
    def api_key_revoked(self) -> str:
        """Event ``ApiKeyRevoked``: every gateway replica drops the key from its cache at once."""
        return f"{self.prefix}.accounts.api_key_revoked"

    def rate_counter(self, user_id: str, window: str) -> str:
        """One rate-limit counter (NATS >= 2.12 atomic counter), e.g. window ``rpm.29412345``."""
        return f"{self.prefix}.ratelimit.{subject_token(user_id)}.{window}"

    @property
    def rate_limit_stream(self) -> str:
        """JetStream counter stream holding every rate-limit window (``allow_msg_counter``)."""
        return f"{_stream_name(self.prefix)}_RATELIMIT"

    @property
    def rate_limit_stream_subjects(self) -> list[str]:
        """Subjects the rate-limit counter stream captures."""
        return [f"{self.prefix}.ratelimit.>"]

    # --- large payloads -----------------------------------------------------------------------------------
    @property
    def body_bucket(self) -> str:
        """Object Store bucket for request bodies too large for one NATS message."""
        return f"{_stream_name(self.prefix)}_BODIES"


def _stream_name(prefix: str) -> str:
    return _UNSAFE_TOKEN_CHARS.sub("_", prefix).upper()
