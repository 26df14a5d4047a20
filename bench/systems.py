"""Starting what the bench measures: the fake upstream, Switchboard and LiteLLM's proxy, as child processes."""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.switchboard_stack import SwitchboardStack
from bench.targets import PACED, Target
from support.litellm_proxy import LiteLLMProxy

__all__ = ["FakeUpstream", "Systems", "litellm_models"]

_REPO = Path(__file__).resolve().parents[1]
_UPSTREAM_KEY = "sk-bench-upstream"
LITELLM_SETTINGS = {"num_retries": 0, "use_chat_completions_url_for_anthropic_messages": True}
"""No retries (as Switchboard), and Anthropic requests to OpenAI backends translated to Chat Completions, as
Switchboard does, rather than to the Responses API (LiteLLM's default for ``openai/`` since 1.7x)."""


@dataclass
class FakeUpstream:
    deltas: int
    process: subprocess.Popen[str] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [sys.executable, "-m", "bench.fake_upstream", "--port", "0", "--deltas", str(self.deltas)]
        self.process = subprocess.Popen(argv, cwd=_REPO, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"the fake upstream did not start (said {line!r})")
        self.port = int(line[1])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def litellm_models(upstream_url: str) -> list[dict[str, Any]]:
    """LiteLLM's ``model_list``: the same two routes Switchboard has, plus their paced twins."""
    entries: list[dict[str, Any]] = []
    routes = (("claude-bench", "anthropic", upstream_url), ("gpt-bench", "openai", f"{upstream_url}/v1"))
    for name, backend, base in routes:
        for model in (name, name + PACED):
            params = {"model": f"{backend}/{model}", "api_base": base, "api_key": _UPSTREAM_KEY}
            entries.append({"model_name": model, "litellm_params": params})
    return entries


@dataclass
class Systems:
    """Everything under test, started once for the whole run; ``close()`` stops it all."""

    workdir: Path
    deltas: int
    with_switchboard: bool
    with_litellm: bool
    upstream: FakeUpstream = field(init=False)
    switchboard: SwitchboardStack | None = None
    litellm: LiteLLMProxy | None = None
    _exit: ExitStack = field(default_factory=ExitStack)

    def start(self) -> None:
        self.upstream = FakeUpstream(self.deltas)
        self.upstream.start()
        self._exit.callback(self.upstream.stop)
        if self.with_switchboard:
            self.switchboard = self.start_switchboard()
        if self.with_litellm:
            models = litellm_models(self.upstream.url)
            workdir = self.workdir / "litellm"
            proxy = LiteLLMProxy(self.upstream.url, _UPSTREAM_KEY, [], workdir, model_list=models,
                                 litellm_settings=LITELLM_SETTINGS)  # fmt: skip
            proxy.start()
            self._exit.callback(proxy.stop)
            self.litellm = proxy

    def start_switchboard(self, *, orchestrators: int = 1, gateway_workers: int = 1) -> SwitchboardStack:
        name = f"switchboard-o{orchestrators}-g{gateway_workers}"
        stack = SwitchboardStack(self.workdir / name, self.upstream.url, orchestrators, gateway_workers)
        try:
            stack.start()
        except BaseException:
            stack.stop()
            raise
        return stack

    def close(self) -> None:
        if self.switchboard is not None:
            self.switchboard.stop()
        self._exit.close()

    def targets(self) -> list[Target]:
        found = [Target("direct", dialect, self.upstream.url, ()) for dialect in ("native", "translated")]
        if self.switchboard is not None:
            found += switchboard_targets(self.switchboard)
        if self.litellm is not None:
            key = (("authorization", f"Bearer {self.litellm.master_key}"),)
            found += [Target("litellm", dialect, self.litellm.url, key) for dialect in ("native", "translated")]
        return found

    def processes(self) -> dict[str, int]:
        found: dict[str, int] = {}
        if self.upstream.process is not None:
            found["fake-upstream"] = self.upstream.process.pid
        if self.switchboard is not None:
            found |= self.switchboard.processes()
        if self.litellm is not None and self.litellm.pid is not None:
            found["litellm"] = self.litellm.pid
        return found


def switchboard_targets(stack: SwitchboardStack) -> list[Target]:
    key = (("x-api-key", stack.api_key),)
    return [Target("switchboard", dialect, stack.url, key) for dialect in ("native", "translated")]
