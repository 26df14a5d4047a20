"""An old 0.x anthropic SDK (``x-api-key``, ``temperature`` as a typed parameter) in a separate interpreter path."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from support.stack import Stack

LEGACY_VERSION = "0.75.0"
REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys, anthropic
base_url, api_key, tag = sys.argv[1:4]
assert anthropic.__version__ == sys.argv[4], anthropic.__version__
client = anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0)
out = {}
message = client.messages.create(
    model="claude-opus-5", max_tokens=32, temperature=0.2,
    messages=[{"role": "user", "content": "hello " + tag}],
)
out["text"] = message.content[0].text
with client.messages.stream(
    model="claude-opus-5", max_tokens=32, temperature=0.2,
    messages=[{"role": "user", "content": "[[fake:words=5]] stream " + tag}],
) as stream:
    out["streamed"] = stream.get_final_message().content[0].text
out["tokens"] = client.messages.count_tokens(
    model="claude-opus-5", messages=[{"role": "user", "content": "count " + tag}]
).input_tokens
out["models"] = [m.id for m in client.models.list()]
errors = {}
for status in (400, 404, 429, 529):
    try:
        client.messages.create(model="claude-opus-5", max_tokens=8,
                               messages=[{"role": "user", "content": "[[fake:status=%d]]" % status}])
    except anthropic.APIStatusError as exc:
        errors[status] = type(exc).__name__
try:
    anthropic.Anthropic(base_url=base_url, api_key="sk-ant-uc-bad", max_retries=0).models.list()
except anthropic.AuthenticationError as exc:
    errors[401] = type(exc).__name__
out["errors"] = errors
print(json.dumps(out))
"""


@pytest.fixture(scope="session")
def legacy_sdk_path() -> Path:
    """anthropic 0.x and its own dependencies, installed once into a cache folder beside the repo."""
    target = REPO / ".cache" / f"anthropic-{LEGACY_VERSION}"
    if not (target / "anthropic").is_dir():
        uv = Path(sys.executable).parent / "uv"
        subprocess.run(
            [str(uv), "pip", "install", "--quiet", "--python", sys.executable, "--target", str(target),
             f"anthropic=={LEGACY_VERSION}"],
            check=True, timeout=300,
        )  # fmt: skip
    return target


def test_legacy_sdk_end_to_end(stack: Stack, legacy_sdk_path: Path) -> None:
    tag = f"legacy-{secrets.token_hex(4)}"
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, stack.base_url, stack.api_key, tag, LEGACY_VERSION],
        capture_output=True, text=True, timeout=60, env={"PYTHONPATH": str(legacy_sdk_path)}, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = json.loads(completed.stdout)
    assert out["text"] == "Hello from the fake provider."
    assert out["streamed"].split() == ["word1", "word2", "word3", "word4", "word5"]
    assert out["tokens"] > 0
    assert "demo" in out["models"]
    assert out["errors"] == {
        "400": "BadRequestError", "404": "NotFoundError", "429": "RateLimitError",
        "529": "OverloadedError", "401": "AuthenticationError",
    }  # fmt: skip
    (seen, *_) = stack.fake.requests_with_marker(f"hello {tag}")
    assert "x-api-key" in seen.headers and "authorization" not in seen.headers
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.json is not None and seen.json["temperature"] == 0.2
