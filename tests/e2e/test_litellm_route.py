"""Claude Code's model served through a real LiteLLM proxy (in front of the fake OpenAI server), seed-style config.

Marked ``litellm``: the first run installs LiteLLM into ``.cache/litellm`` (a few seconds from the registry) and
the proxy takes 5-15 s to start.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest
from anthropic.types import MessageParam, ToolParam

from fakes.openai_provider import FakeOpenAI
from support.litellm_proxy import LiteLLMProxy
from support.stack import Stack

pytestmark = [
    pytest.mark.litellm,
    pytest.mark.timeout(300),
    pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning"),
]

MODEL = "claude-3-5-sonnet-20241022"
TOOLS: list[ToolParam] = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}]


@pytest.fixture(scope="module")
def litellm(fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteLLMProxy]:
    workdir = tmp_path_factory.mktemp("litellm")
    with LiteLLMProxy(fake_openai.url, fake_openai.api_key, ["gpt-fake", "gpt-fake-mini"], workdir) as proxy:
        yield proxy


@pytest.fixture
def sdk(private_stack: Stack, litellm: LiteLLMProxy, tmp_path: Path) -> Iterator[anthropic.Anthropic]:
    private_stack.routing_config = {"model_mapping": {MODEL: "gpt-fake"}}  # the seed's format
    private_stack.extra_env |= {"LITELLM_URL": litellm.url, "LITELLM_API_KEY": litellm.master_key}
    private_stack.start(orchestrators=1)
    with anthropic.Anthropic(base_url=private_stack.base_url, api_key=private_stack.api_key, max_retries=0) as client:
        yield client


@pytest.mark.parametrize("streaming", [False, True])
def test_tool_call_through_litellm(sdk: anthropic.Anthropic, fake_openai: FakeOpenAI, streaming: bool) -> None:
    marker = f"litellm-{secrets.token_hex(4)}"
    args = {"location": "Paris", "units": "metric"}
    prompt = f"[[fake:tool_calls=1]] [[fake:tool_args={json.dumps(args)}]] [[fake:split=awkward]] {marker}"
    messages: list[MessageParam] = [{"role": "user", "content": prompt}]
    message: anthropic.types.Message
    if streaming:
        with sdk.messages.stream(model=MODEL, max_tokens=64, tools=TOOLS, messages=messages) as stream:
            message = stream.get_final_message()
    else:
        message = sdk.messages.create(model=MODEL, max_tokens=64, tools=TOOLS, messages=messages)
    assert message.stop_reason == "tool_use"
    (block,) = message.content
    assert block.type == "tool_use"
    assert block.input == args
    assert message.usage.input_tokens > 0
    (upstream,) = fake_openai.requests_with_marker(marker)
    assert upstream.json is not None
    assert upstream.json["model"] == "gpt-fake"


def test_models_lists_mapped_names_and_litellms_own_which_are_usable(sdk: anthropic.Anthropic) -> None:
    assert {model.id for model in sdk.models.list()} >= {MODEL, "gpt-fake", "gpt-fake-mini"}
    for model in (MODEL, "gpt-fake-mini"):
        message = sdk.messages.create(model=model, max_tokens=32, messages=[{"role": "user", "content": "hello"}])
        assert message.content[0].type == "text"
        assert message.model == model
    with pytest.raises(anthropic.NotFoundError):
        sdk.messages.create(model="not-listed", max_tokens=8, messages=[{"role": "user", "content": "x"}])
