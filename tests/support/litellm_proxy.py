"""A real LiteLLM proxy as a child process, for tests that put Switchboard next to (or behind) it.

LiteLLM is installed once, pinned, into a virtualenv of its own (`.cache/litellm-venv/`), so its
dependency pins never touch the workspace. Every remote fetch LiteLLM does on its own (model cost map,
beta headers, ...) is switched off by environment, since the test machines reach no network but package
registries. The benchmark (`bench/`) runs the same proxy, with its own model list.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from switchboard.cli.embedded_nats import free_port

__all__ = ["LITELLM_VENV", "LITELLM_VERSION", "MASTER_KEY", "OFFLINE_ENV", "LiteLLMProxy", "ensure_litellm"]

# 1.108.7 is the newest release whose `[proxy]` extra resolves from the registry (1.108.8+ pin
# `litellm-proxy*` releases that are not published there); it is after the compromised 1.82.7/1.82.8.
LITELLM_VERSION = "1.108.7"
LITELLM_VENV = Path(__file__).resolve().parents[2] / ".cache" / "litellm-venv"
MASTER_KEY = "sk-litellm-test"

# Per-feature "use the bundled copy" switches (documented on LiteLLM's "Outbound Requests and Offline
# Mode" page); LITELLM_OFFLINE_MODE covers them all in releases that have it. Telemetry is off by default
# since 1.107 and vetoed here anyway; PRODUCTION mode stops LiteLLM loading a stray `.env`.
OFFLINE_ENV = {
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "LITELLM_TELEMETRY_DISABLED": "true",
    "LITELLM_MODE": "PRODUCTION",
    "HF_HUB_OFFLINE": "1",
    "NO_PROXY": "127.0.0.1,localhost",
}
_STAMP = ".switchboard-litellm-version"


def ensure_litellm(venv: Path = LITELLM_VENV, version: str = LITELLM_VERSION) -> Path:
    """Install `litellm[proxy]==version` into the virtualenv `venv` unless it is there; returns its python."""
    stamp = venv / _STAMP
    python = venv / "bin" / "python"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test sessions install once, not over each other
        if stamp.exists() and stamp.read_text() == version and python.exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        uv = _uv()
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=120)
        install = [uv, "pip", "install", "--quiet", "--python", str(python), f"litellm[proxy]=={version}"]
        subprocess.run(install, check=True, timeout=900)
        stamp.write_text(version)
    return python


def _uv() -> str:
    beside_python = Path(sys.executable).parent / "uv"
    found = str(beside_python) if beside_python.exists() else shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is needed to install LiteLLM for tests")
    return found


class LiteLLMProxy:
    """`litellm --config` on 127.0.0.1:<free port>, routing each of `models` to `openai/<model>` upstream."""

    master_key = MASTER_KEY

    def __init__(
        self,
        upstream_base_url: str,
        upstream_api_key: str,
        models: Sequence[str],
        workdir: Path,
        *,
        litellm_settings: Mapping[str, Any] | None = None,
        startup_timeout: float = 180.0,
        model_list: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.upstream_base_url = upstream_base_url.rstrip("/")
        self.upstream_api_key = upstream_api_key
        self.models = list(models)
        self.workdir = workdir
        self.litellm_settings = {"num_retries": 0} if litellm_settings is None else dict(litellm_settings)
        self.startup_timeout = startup_timeout
        self.model_list = None if model_list is None else [dict(entry) for entry in model_list]
        """LiteLLM's own ``model_list``, replacing the ``openai/<model>`` entries built from ``models``."""
        self.port = 0
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("LiteLLMProxy is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "litellm.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def config(self) -> dict[str, Any]:
        entries = [
            {
                "model_name": model,
                "litellm_params": {
                    "model": f"openai/{model}",
                    "api_base": f"{self.upstream_base_url}/v1",
                    "api_key": self.upstream_api_key,
                },
            }
            for model in self.models
        ]
        return {
            "model_list": entries if self.model_list is None else self.model_list,
            "general_settings": {"master_key": self.master_key},
            "litellm_settings": self.litellm_settings,
        }

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("LiteLLMProxy already started")
        python = ensure_litellm()
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "config.yaml"
        config_path.write_text(json.dumps(self.config(), indent=2))  # JSON is YAML
        self.port = free_port()
        command = [str(python), "-m", "litellm.proxy.proxy_cli", "--config", str(config_path)]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, env=self._environment(), cwd=self.workdir, stdout=log, stderr=log)
        try:
            self._wait_until_live()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the proxy by PID, SIGKILL it if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)

    def __enter__(self) -> LiteLLMProxy:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _environment(self) -> dict[str, str]:
        """A clean environment: nothing of ours (DATABASE_URL, provider keys, proxies) leaks into LiteLLM."""
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        return {
            "PATH": os.defpath,
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1",
            **OFFLINE_ENV,
        }

    def _wait_until_live(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"LiteLLM exited with {self._process.returncode}:\n{self.log()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/health/liveliness", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"LiteLLM not live after {self.startup_timeout} s:\n{self.log()[-4000:]}")
