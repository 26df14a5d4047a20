"""docs/asyncapi.yaml: a structurally sound AsyncAPI 3.0 document that covers every subject and matches the code."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from switchboard.cli.asyncapi import CHANNELS, JETSTREAM, build_asyncapi, render_asyncapi
from switchboard.common.events import CancelRequest
from switchboard.common.subjects import Subjects

ASYNCAPI_YAML = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_asyncapi()


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> object:
    assert ref.startswith("#/"), f"only local references: {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_committed_document_is_current() -> None:
    committed = ASYNCAPI_YAML.read_text() if ASYNCAPI_YAML.exists() else ""
    assert committed == render_asyncapi(), "docs/asyncapi.yaml is stale: run `./switchboard docs` and commit it"


def test_rendering_round_trips_through_yaml(document: dict[str, Any]) -> None:
    assert yaml.safe_load(render_asyncapi()) == document


def test_required_asyncapi_3_fields(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"]
    for name, channel in document["channels"].items():
        assert channel["address"], name
        for param in channel.get("parameters", {}):
            assert f"{{{param}}}" in channel["address"], f"parameter {param} unused in {name}"
    for name, operation in document["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        channel_ref = operation["channel"]["$ref"]
        for message in operation["messages"]:  # AsyncAPI 3: an operation's messages belong to its channel
            assert message["$ref"].startswith(channel_ref + "/messages/"), name


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = list(_refs(document))
    assert len(refs) > 50
    for ref in refs:
        _resolve(document, ref)


def test_every_parameter_of_an_address_is_declared(document: dict[str, Any]) -> None:
    for name, channel in document["channels"].items():
        placeholders = {part[1:-1] for part in channel["address"].split(".") if part.startswith("{")}
        assert placeholders == set(channel["parameters"]), name
    assert document["channels"]["completion_recorded"]["address"] == "{prefix}.usage.completion_recorded.{user_id}"


def test_every_registry_accessor_is_described(document: dict[str, Any]) -> None:
    """A subject added to Subjects without a channel (or a stream without a description) fails here."""
    accessors = {name for name, member in vars(Subjects).items() if isinstance(member, property)}
    accessors |= {name for name, member in vars(Subjects).items() if inspect.isfunction(member)}
    accessors -= {name for name in accessors if name.startswith("_")}
    channels = document["channels"]
    described = set(channels) | {alias for c in channels.values() for alias in c.get("x-switchboard-subscribed-as", {})}
    described |= {entry["accessor"] for entry in document["info"]["x-jetstream"]}
    described |= {captures for _, captures in JETSTREAM.values() if captures}
    assert accessors - described == set(), "subjects without a channel in the AsyncAPI document"
    assert described - accessors == set(), "channels for subjects the registry no longer has"


def test_channel_addresses_match_the_registry(document: dict[str, Any]) -> None:
    subjects = Subjects()
    assert document["channels"]["execute_request"]["address"].replace("{prefix}", "switchboard") == (
        subjects.execute_request
    )
    ping = document["channels"]["ping"]["address"].format(prefix="switchboard", service="metering")
    assert ping == subjects.ping("metering")


def test_operations_name_both_sides_and_replies(document: dict[str, Any]) -> None:
    operations = document["operations"]
    assert operations["orchestrator.receive.execute_request"]["x-nats-queue-group"] == "orchestrator"
    assert operations["api-gateway.send.execute_request"]["reply"]["channel"] == {"$ref": "#/channels/reply"}
    assert "reply" in operations["metering.receive.query_usage"]
    assert "x-nats-queue-group" not in operations["tool-broker.receive.api_key_revoked"]
    for channel in CHANNELS:
        for service in channel.senders:
            assert f"{service}.send.{channel.accessor}" in operations


def test_nats_headers_are_documented(document: dict[str, Any]) -> None:
    counter = document["channels"]["rate_counter"]["messages"]["CounterIncrement"]
    assert "Nats-Incr" in counter["headers"]["properties"]
    usage = document["channels"]["completion_recorded"]["messages"]["CompletionRecorded"]
    assert "Nats-Msg-Id" in usage["headers"]["properties"]
    assert document["channels"]["completion_recorded"]["x-jetstream-stream"] == "SWITCHBOARD_USAGE"


def test_payload_schemas_are_valid_and_accept_real_messages(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    registry: Registry[Any] = Registry().with_resource("urn:asyncapi", DRAFT202012.create_resource(document))
    payload_schema = {"$ref": "urn:asyncapi#/components/schemas/CancelRequest"}
    validator = Draft202012Validator(payload_schema, registry=registry)
    message = CancelRequest(request_id="req_1", user_id="alice").model_dump(mode="json")
    assert list(validator.iter_errors(message)) == []
    assert list(validator.iter_errors({**message, "request_id": 7})) != []
