"""Build ``docs/asyncapi.yaml`` (AsyncAPI 3.0) from the subject registry and the event models of ``switchboard.common``.

FastStream's AsyncAPI generator only sees FastStream subscribers, and most of our subscriptions are raw nats-py, so
the document is generated from :class:`Subjects` plus the explicit table below of who sends and who receives what.
This module is over 150 lines because the table is data: one entry per channel, kept next to the code that reads it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from switchboard.common import events, tool_events, usage_events
from switchboard.common.subjects import (
    GATEWAY_QUEUE,
    METERING_QUEUE,
    ORCHESTRATOR_QUEUE,
    TOOL_BROKER_QUEUE,
    Subjects,
)

__all__ = ["CHANNELS", "JETSTREAM", "Channel", "build_asyncapi", "render_asyncapi"]

_GATEWAY, _ORCHESTRATOR, _BROKER, _METERING, _CLI = "api-gateway", "orchestrator", "tool-broker", "metering", "cli"
_SERVICES = (_GATEWAY, _ORCHESTRATOR, _BROKER, _METERING, _CLI)
_QUEUES = {_GATEWAY: GATEWAY_QUEUE, _ORCHESTRATOR: ORCHESTRATOR_QUEUE, _BROKER: TOOL_BROKER_QUEUE}
_QUEUES[_METERING] = METERING_QUEUE

_HEADERS = {
    "Nats-Msg-Id": "JetStream de-duplication id (the event id, or derived from it)",
    "Nats-Incr": "Atomic counter increment, e.g. `+1` (NATS >= 2.12 counter streams)",
    "Switchboard-Dead-Letter-Reason": "`refused` (Lago said no) or `malformed` (the payload could not be read)",
    "Switchboard-Subject": "For a malformed dead letter: the usage subject it was read from",
    "traceparent": "W3C trace context of the sending span (`00-<trace id>-<span id>-<flags>`), when it has one",
    "tracestate": "W3C vendor trace state that came with `traceparent`, when there was one",
}
_TRACE = ("traceparent", "tracestate")


class Empty(BaseModel):
    """An empty JSON object (``{}``)."""


class PingReply(BaseModel):
    """Answer of a liveness probe."""

    instance: str
    """Id of the replica that answered."""


class CounterIncrement(BaseModel):
    """Empty payload: the increment is in the ``Nats-Incr`` header; the stream keeps the running total."""


@dataclass(frozen=True, slots=True)
class Channel:
    """One subject (family): its message, the optional reply, and the services on each side."""

    accessor: str
    """The :class:`Subjects` property or method that names the subject."""
    message: type[BaseModel]
    senders: tuple[str, ...]
    receivers: tuple[str, ...]
    reply: type[BaseModel] | None = None
    headers: tuple[str, ...] = ()
    stream: str | None = None
    """The :class:`Subjects` accessor of the JetStream stream that stores the subject."""
    subscribed_as: tuple[str, ...] = ()
    """Wildcard accessors the receivers subscribe with."""
    queue: bool = True
    """Receivers share a queue group (one replica gets each message) rather than each getting every message."""


CHANNELS: tuple[Channel, ...] = (
    Channel(
        "execute_request", events.ExecuteRequest, (_GATEWAY,), (_ORCHESTRATOR,), reply=events.StreamFrame,
        headers=_TRACE,
    ),
    Channel(
        "cancel_request", events.CancelRequest, (_GATEWAY,), (_ORCHESTRATOR,),
        subscribed_as=("cancel_request_all",), queue=False, headers=_TRACE,
    ),
    Channel(
        "list_models", events.ListModels, (_GATEWAY,), (_ORCHESTRATOR,), reply=events.ModelsListed, headers=_TRACE
    ),
    Channel("reply", events.StreamFrame, (_ORCHESTRATOR,), (_GATEWAY,), subscribed_as=("reply_prefix",), queue=False),
    Channel("ping", Empty, (_GATEWAY,), (_ORCHESTRATOR, _BROKER, _METERING), reply=PingReply),
    Channel(
        "completion_recorded", events.CompletionRecorded, (_ORCHESTRATOR, _CLI), (_METERING, _GATEWAY),
        headers=("Nats-Msg-Id", *_TRACE), stream="usage_stream", subscribed_as=("completion_recorded_all",),
    ),
    Channel(
        "query_usage", usage_events.QueryUsage, (_GATEWAY,), (_METERING,), reply=usage_events.UsageReported,
        headers=_TRACE,
    ),
    Channel("metering_status", Empty, (_GATEWAY,), (_METERING,), reply=usage_events.MeteringStatus),
    Channel(
        "query_dead_letters", usage_events.QueryDeadLetters, (_GATEWAY,), (_METERING,),
        reply=usage_events.DeadLettersListed, headers=_TRACE,
    ),
    Channel(
        "usage_dead_lettered", usage_events.CompletionDeadLettered, (_METERING,), (_CLI,),
        headers=("Nats-Msg-Id", "Switchboard-Dead-Letter-Reason", "Switchboard-Subject"),
        stream="usage_dead_letter_stream",
    ),
    Channel("list_tools", tool_events.ListTools, (_ORCHESTRATOR,), (_BROKER,), reply=tool_events.ToolsListed),
    Channel(
        "execute_tool_call", tool_events.ExecuteToolCall, (_ORCHESTRATOR,), (_BROKER,),
        reply=tool_events.ToolCallCompleted, subscribed_as=("execute_tool_call_all",), headers=_TRACE,
    ),
    Channel(
        "deliver_tool_call", tool_events.ExecuteToolCall, (_BROKER,), (_BROKER,), reply=tool_events.ToolCallCompleted
    ),
    Channel(
        "tool_queue", tool_events.ExecuteToolCall, (_BROKER,), (_BROKER,), headers=("Nats-Msg-Id",),
        stream="tool_queue_stream",
    ),
    Channel(
        "verify_credential", tool_events.VerifyCredential, (_BROKER,), (_GATEWAY,),
        reply=tool_events.CredentialVerified,
    ),
    Channel("api_key_revoked", events.ApiKeyRevoked, (_GATEWAY,), (_GATEWAY, _BROKER), queue=False),
    Channel(
        "rate_counter", CounterIncrement, (_GATEWAY,), (), headers=("Nats-Incr",), stream="rate_limit_stream"
    ),
)  # fmt: skip
"""Every subject, who sends it and who receives it (read off the services' ``subscribe``/``publish`` calls)."""

JETSTREAM: dict[str, tuple[str, str | None]] = {
    "usage_stream": ("stream", "usage_stream_subjects"),
    "usage_dead_letter_stream": ("stream", "usage_dead_letter_stream_subjects"),
    "tool_queue_stream": ("stream", "tool_queue_stream_subjects"),
    "rate_limit_stream": ("counter stream", "rate_limit_stream_subjects"),
    "usage_consumer": ("durable consumer of usage_stream", None),
    "tool_servers_bucket": ("key-value bucket", None),
    "tool_connections_bucket": ("key-value bucket", None),
    "tool_pending_bucket": ("key-value bucket", None),
    "body_bucket": ("object store", None),
}
"""JetStream streams, consumers and buckets: accessor -> (kind, accessor of the subjects it captures)."""


_BACKING_STREAM = {"key-value bucket": "KV_", "object store": "OBJ_"}


def _doc(obj: object) -> str:
    return " ".join((inspect.getdoc(obj) or "").split())


def _address(subjects: Subjects, accessor: str) -> tuple[str, list[str]]:
    """The accessor's subject with ``{prefix}`` and one ``{name}`` per method argument; the argument names."""
    member = getattr(Subjects, accessor)
    if isinstance(member, property):
        return str(getattr(subjects, accessor)), []
    params = [name for name in inspect.signature(member).parameters if name != "self"]
    samples = [f"PLACEHOLDER{index}X" for index in range(len(params))]
    address: str = member(subjects, *samples)
    for param, sample in zip(params, samples, strict=True):
        address = address.replace(sample, f"{{{param}}}")
    return address, params


def _schemas() -> tuple[dict[str, str], dict[str, Any]]:
    """Model name -> ``$ref`` of its schema, and every schema for ``components/schemas``."""
    models = sorted({m for c in CHANNELS for m in (c.message, c.reply) if m is not None}, key=lambda m: m.__name__)
    refs, top = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    return {model.__name__: refs[(model, "validation")]["$ref"] for model in models}, dict(sorted(top["$defs"].items()))


def _message(model: type[BaseModel], refs: dict[str, str], headers: tuple[str, ...]) -> dict[str, Any]:
    message: dict[str, Any] = {"name": model.__name__, "title": model.__name__, "contentType": "application/json"}
    message["summary"] = _doc(model).split(". ")[0]
    if headers:
        properties = {name: {"type": "string", "description": _HEADERS[name]} for name in headers}
        message["headers"] = {"type": "object", "properties": properties}
    message["payload"] = {"$ref": refs[model.__name__]}
    return message


def _channel(subjects: Subjects, channel: Channel, refs: dict[str, str]) -> dict[str, Any]:
    address, params = _address(subjects, channel.accessor)
    parameters = {"prefix": {"default": "switchboard", "description": "`SWITCHBOARD_SUBJECT_PREFIX`"}}
    parameters.update({name: {"description": f"`subject_token({name})`"} for name in params})
    messages = {channel.message.__name__: _message(channel.message, refs, channel.headers)}
    if channel.reply is not None:
        messages[channel.reply.__name__] = _message(channel.reply, refs, ())
    body: dict[str, Any] = {
        "address": address,
        "title": channel.accessor,
        "description": _doc(getattr(Subjects, channel.accessor)),
    }
    body["parameters"] = parameters
    body["messages"] = messages
    body["x-switchboard-accessor"] = channel.accessor
    if channel.subscribed_as:
        body["x-switchboard-subscribed-as"] = {name: _address(subjects, name)[0] for name in channel.subscribed_as}
    if channel.stream is not None:
        body["x-jetstream-stream"] = getattr(Subjects(), channel.stream)
    return body


def _operations(channel: Channel) -> dict[str, Any]:
    ref = f"#/channels/{channel.accessor}"
    request = {"$ref": f"{ref}/messages/{channel.message.__name__}"}
    operations: dict[str, Any] = {}
    for action, services in (("send", channel.senders), ("receive", channel.receivers)):
        for service in services:
            operation: dict[str, Any] = {"action": action, "channel": {"$ref": ref}, "messages": [request]}
            if action == "receive" and channel.queue and service in _QUEUES:
                operation["x-nats-queue-group"] = _QUEUES[service]
            if channel.reply is not None:
                operation["reply"] = _reply(channel, channel.reply)
            operation["tags"] = [{"name": service}]
            operations[f"{service}.{action}.{channel.accessor}"] = operation
    return operations


def _reply(channel: Channel, reply: type[BaseModel]) -> dict[str, Any]:
    if channel.accessor == "execute_request":  # frames go to a subject the request names, not to an inbox
        return {
            "address": {"location": "$message.payload#/reply_subject"},
            "channel": {"$ref": "#/channels/reply"},
            "messages": [{"$ref": f"#/channels/reply/messages/{reply.__name__}"}],
        }
    # NATS request/reply: the answer goes to the request's reply subject (an _INBOX), which is no header.
    return {
        "messages": [{"$ref": f"#/channels/{channel.accessor}/messages/{reply.__name__}"}],
        "x-nats-reply-to": "inbox",
    }


def _jetstream(subjects: Subjects) -> list[dict[str, Any]]:
    described = []
    for accessor, (kind, captures) in JETSTREAM.items():
        entry: dict[str, Any] = {"name": getattr(subjects, accessor), "kind": kind, "accessor": accessor}
        entry["description"] = _doc(getattr(Subjects, accessor))
        if captures is not None:
            entry["subjects"] = getattr(subjects, captures)
        if kind in _BACKING_STREAM:  # buckets are streams too: what `/jsz` and `nats stream ls` call them
            entry["stream"] = _BACKING_STREAM[kind] + entry["name"]
        described.append(entry)
    return described


def build_asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every subject, with the default prefix's stream and bucket names."""
    subjects = Subjects(prefix="{prefix}")
    refs, schemas = _schemas()
    info: dict[str, Any] = {
        "title": "Switchboard bus",
        "version": str(events.SCHEMA_VERSION),
        "description": "Every NATS subject the Switchboard services use. Generated by `./switchboard docs` "
        "from switchboard.common.subjects and the event models; edit those, not this file.",
        "x-jetstream": _jetstream(Subjects()),
    }
    operations: dict[str, Any] = {}
    for channel in CHANNELS:
        operations.update(_operations(channel))
    return {
        "asyncapi": "3.0.0",
        "info": info,
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:4222", "protocol": "nats", "description": "`switchboard up`"}},
        "channels": {channel.accessor: _channel(subjects, channel, refs) for channel in CHANNELS},
        "operations": operations,
        "components": {
            "schemas": schemas,
            "tags": {service: {"name": service} for service in _SERVICES},
        },
    }


def render_asyncapi() -> str:
    header = "# Generated by `./switchboard docs` from switchboard.common; edit those, not this file.\n"
    return header + yaml.safe_dump(build_asyncapi(), sort_keys=False, allow_unicode=True, width=120)
