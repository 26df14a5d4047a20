"""Routing config: both file formats, every value form, defaults and the errors a bad file gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.orchestrator.route_config import (
    RouteConfigError,
    RouteTarget,
    RoutingTable,
    load_routing_table,
)
from switchboard.orchestrator.settings import OrchestratorSettings

CONFIG = {
    "providers": {
        "anthropic": {"type": "anthropic", "base_url": "https://upstream.test/", "api_key_env": "ROUTE_TEST_KEY"},
        "demo": {"type": "demo"},
    },
    "model_mapping": {
        "claude-sonnet-4-5": "anthropic/claude-sonnet-4-5-20250929",
        "fast": {"provider": "anthropic", "model": "claude-haiku-4-5-20251001"},
        "demo": "demo/demo",
        "*": "anthropic",
    },
}

YAML_CONFIG = """
providers:
  anthropic: {type: anthropic, api_key_env: ROUTE_TEST_KEY}
  demo:
    type: demo
model_mapping:
  fast: {provider: anthropic, model: claude-haiku-4-5-20251001}
  "claude-*": anthropic
"""


def settings(**values: object) -> OrchestratorSettings:
    return OrchestratorSettings.model_validate(values)


def table_from(tmp_path: Path, name: str, text: str, **extra: object) -> RoutingTable:
    path = tmp_path / name
    path.write_text(text)
    return load_routing_table(settings(config_path=path, **extra))


def test_json_config_with_every_value_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTE_TEST_KEY", "sk-from-env")
    table = table_from(tmp_path, "routes.json", json.dumps(CONFIG))
    assert table.routes == {
        "claude-sonnet-4-5": [RouteTarget(provider="anthropic", model="claude-sonnet-4-5-20250929")],
        "fast": [RouteTarget(provider="anthropic", model="claude-haiku-4-5-20251001")],
        "demo": [RouteTarget(provider="demo", model="demo")],
        "*": [RouteTarget(provider="anthropic", model=None)],
    }
    anthropic = table.providers["anthropic"]
    assert anthropic.base_url == "https://upstream.test"
    assert anthropic.api_key is not None
    assert anthropic.api_key.get_secret_value() == "sk-from-env"
    assert "sk-from-env" not in repr(anthropic)
    assert table.providers["demo"].type == "demo"


def test_yaml_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTE_TEST_KEY", raising=False)
    table = table_from(tmp_path, "routes.yaml", YAML_CONFIG, ANTHROPIC_UPSTREAM_URL="http://127.0.0.1:1234/")
    assert table.routes["claude-*"] == [RouteTarget(provider="anthropic")]
    assert table.providers["anthropic"].base_url == "http://127.0.0.1:1234"  # ANTHROPIC_UPSTREAM_URL
    assert table.providers["anthropic"].api_key is None  # the named variable is unset


def test_default_without_a_file_sends_everything_to_anthropic() -> None:
    table = load_routing_table(
        settings(ANTHROPIC_UPSTREAM_URL="http://127.0.0.1:9/", ANTHROPIC_UPSTREAM_API_KEY="sk-default")
    )
    assert table.routes == {"*": [RouteTarget(provider="anthropic")]}
    provider = table.providers["anthropic"]
    assert (provider.type, provider.base_url) == ("anthropic", "http://127.0.0.1:9")
    assert provider.api_key is not None
    assert provider.api_key.get_secret_value() == "sk-default"


def test_demo_flag_adds_the_demo_route() -> None:
    table = load_routing_table(settings(SWITCHBOARD_DEMO=True))
    assert table.routes["demo"] == [RouteTarget(provider="demo")]
    assert table.providers["demo"].type == "demo"
    assert table.routes["*"] == [RouteTarget(provider="anthropic")]


def test_demo_flag_keeps_an_existing_demo_mapping(tmp_path: Path) -> None:
    config = {"providers": {"x": {"type": "anthropic"}}, "model_mapping": {"demo": "x/real-model"}}
    table = table_from(tmp_path, "r.json", json.dumps(config), SWITCHBOARD_DEMO=True)
    assert table.routes["demo"] == [RouteTarget(provider="x", model="real-model")]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"providers": {"a": {"type": "anthropic"}}, "model_mapping": {"m": {"provider": "b"}}},
            "unknown provider 'b'",
        ),
        ({"providers": {"a": {"type": "grpc"}}, "model_mapping": {"m": "a"}}, "providers.a.type"),
        ({"providers": {"a": {"type": "anthropic", "key": "x"}}, "model_mapping": {"m": "a"}}, "providers.a.key"),
        ({"providers": {"a": {"type": "anthropic", "base_url": "ftp://x"}}, "model_mapping": {"m": "a"}}, "base_url"),
        ({"providers": {"a": {"type": "demo"}}, "model_mapping": {}}, "model_mapping"),
        ({"providers": {"a": {"type": "demo"}}, "model_mapping": {"m": {"provider": ""}}}, "model_mapping['m']"),
        ({"providers": {"a": {"type": "demo"}}, "model_mapping": {"m": 3}}, "model_mapping['m']"),
        ({"providers": {"a": {"type": "demo"}}, "model_mapping": {"m": []}}, "model_mapping['m'] has no target"),
        (
            {"model_mapping": {"m": {"provider": "anthropic", "fallbacks": [{"provider": "nope"}]}}},
            "unknown provider 'nope'",
        ),
        (["not", "a", "mapping"], "<root>"),
    ],
)
def test_bad_config_is_rejected_with_a_useful_message(tmp_path: Path, config: object, message: str) -> None:
    with pytest.raises(RouteConfigError, match=r"routing config|unknown provider") as info:
        table_from(tmp_path, "bad.json", json.dumps(config))
    assert message in str(info.value)


def test_unparseable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(RouteConfigError, match=r"not valid \.json"):
        table_from(tmp_path, "broken.json", "{not json")
    with pytest.raises(RouteConfigError, match=r"not valid \.yaml"):
        table_from(tmp_path, "broken.yaml", "providers: [unclosed")
    with pytest.raises(RouteConfigError, match="cannot read"):
        load_routing_table(settings(config_path=tmp_path / "missing.yaml"))


def test_seed_format_routes_bare_model_names_to_litellm(tmp_path: Path) -> None:
    table = table_from(
        tmp_path, "seed.json", json.dumps({"model_mapping": {"claude-3-5-sonnet-20241022": "gpt-4"}}),
        LITELLM_URL="http://127.0.0.1:4000/", LITELLM_API_KEY="sk-litellm",
    )  # fmt: skip
    assert table.routes == {"claude-3-5-sonnet-20241022": [RouteTarget(provider="litellm", model="gpt-4")]}
    litellm = table.providers["litellm"]
    assert (litellm.type, litellm.base_url) == ("openai", "http://127.0.0.1:4000")
    assert litellm.api_key is not None
    assert litellm.api_key.get_secret_value() == "sk-litellm"


def test_litellm_style_names_with_a_slash_stay_whole_unless_the_prefix_is_a_provider(tmp_path: Path) -> None:
    config = {"model_mapping": {"a": "openai/gpt-4o", "b": "anthropic/claude-x", "c": "litellm/gpt-4o-mini"}}
    table = table_from(tmp_path, "r.json", json.dumps(config))
    assert table.routes["a"] == [RouteTarget(provider="litellm", model="openai/gpt-4o")]
    assert table.routes["b"] == [RouteTarget(provider="anthropic", model="claude-x")]
    assert table.routes["c"] == [RouteTarget(provider="litellm", model="gpt-4o-mini")]


def test_fallbacks_as_a_list_or_an_object(tmp_path: Path) -> None:
    config = {
        "providers": {"vllm": {"type": "openai", "base_url": "http://vllm.test/v1", "max_output_tokens": 8192}},
        "model_mapping": {
            "claude-*-haiku-*": ["vllm/qwen", "anthropic/claude-haiku-4-5"],
            "fast": {"provider": "vllm", "model": "qwen", "fallbacks": ["gpt-4o-mini", {"provider": "anthropic"}]},
        },
    }
    table = table_from(tmp_path, "r.json", json.dumps(config))
    assert table.routes["claude-*-haiku-*"] == [
        RouteTarget(provider="vllm", model="qwen"),
        RouteTarget(provider="anthropic", model="claude-haiku-4-5"),
    ]
    assert table.routes["fast"] == [
        RouteTarget(provider="vllm", model="qwen"),
        RouteTarget(provider="litellm", model="gpt-4o-mini"),
        RouteTarget(provider="anthropic"),
    ]
    assert table.providers["vllm"].max_output_tokens == 8192


def test_without_a_file_litellm_becomes_the_default_only_when_configured() -> None:
    assert load_routing_table(settings()).routes == {"*": [RouteTarget(provider="anthropic")]}
    table = load_routing_table(settings(LITELLM_URL="http://127.0.0.1:4000"))
    assert table.routes == {"*": [RouteTarget(provider="litellm")]}


def test_an_empty_litellm_url_counts_as_unset() -> None:
    table = load_routing_table(settings(LITELLM_URL=""))
    assert table.routes == {"*": [RouteTarget(provider="anthropic")]}
    assert table.providers["litellm"].base_url == "http://localhost:4000"


def test_an_empty_signing_key_is_not_used_as_one() -> None:
    from switchboard.orchestrator.app import thinking_signer
    from switchboard.orchestrator.translation.anthropic_openai.signatures import ThinkingSigner

    empty_key_signature = ThinkingSigner(b"").sign("thought")
    assert thinking_signer(settings(SWITCHBOARD_THINKING_SIGNING_KEY="")).sign("thought") != empty_key_signature
