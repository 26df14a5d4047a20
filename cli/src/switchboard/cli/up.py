"""``switchboard up``: NATS plus the four services on this machine, in the foreground, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

from switchboard.api_gateway.settings import GatewaySettings
from switchboard.cli.bus import Bus, choose_bus
from switchboard.cli.embedded_nats import free_port
from switchboard.cli.health import HealthTimeoutError, wait_healthy
from switchboard.cli.keys import KeyMinter, local_api_key, mint
from switchboard.cli.supervisor import Supervisor, tail

__all__ = ["MONITOR_URL_FILE", "NATS_URL_FILE", "SERVICES", "UpOptions", "instructions", "run_up"]

SERVICES = ("orchestrator", "tool_broker", "metering", "api_gateway")
"""Start order; the gateway comes last because its health check probes the others."""

NATS_URL_FILE = "nats-url"
MONITOR_URL_FILE = "nats-monitor-url"
"""Under the data dir while ``up`` runs an embedded server: its monitoring URL (for ``switchboard events inspect``)."""
"""Written to the data dir while ``up`` runs, so that ``switchboard tap`` finds an embedded server."""

HEALTH_TIMEOUT = 30.0


@dataclass(frozen=True)
class UpOptions:
    port: int
    demo: bool
    data_dir: Path


class StackFailedError(Exception):
    """A process of the stack died or the stack never became healthy; the message says which and why."""


class _Terminated(BaseException):
    """SIGTERM arrived: stop as on Ctrl-C. A ``BaseException``, like ``KeyboardInterrupt``, so that no
    ``except Exception`` on the way swallows it."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextmanager
def _stop_signals() -> Iterator[None]:
    """Inside the block SIGTERM behaves like Ctrl-C (both end up in ``run_up``'s ``except``)."""
    # SIGINT explicitly too: a shell starting `up` in the background would otherwise have it ignored.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def _ignore_stop_signals() -> None:
    """While stopping, another Ctrl-C must not cut the shutdown short and leave processes behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def instructions(base_url: str, api_key: str, *, demo: bool) -> str:
    """What to paste into the shell that runs Claude Code."""
    lines = [f"export ANTHROPIC_BASE_URL={base_url}", f"export ANTHROPIC_AUTH_TOKEN={api_key}"]
    if demo:
        lines.append("export ANTHROPIC_MODEL=demo ANTHROPIC_DEFAULT_HAIKU_MODEL=demo")
    return "\n".join(lines)


def _say(message: str) -> None:
    print(f"switchboard: {message}", flush=True)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _child_env(options: UpOptions, nats_url: str) -> dict[str, str]:
    env = dict(os.environ)  # noqa: TID251 - children inherit the caller's environment, plus what `up` decides
    # The tool-broker listens on a private port; the gateway forwards /api/mcp/* there, so connectors use one URL.
    broker_port = free_port()
    env.update(
        NATS_URL=nats_url,
        SWITCHBOARD_GATEWAY_PORT=str(options.port),
        SWITCHBOARD_TOOL_BROKER_PORT=str(broker_port),
        SWITCHBOARD_TOOL_BROKER_URL=f"http://127.0.0.1:{broker_port}",
        SWITCHBOARD_DATA_DIR=str(options.data_dir),
        PYTHONUNBUFFERED="1",
    )
    if options.demo:
        env["SWITCHBOARD_DEMO"] = "1"
    return env


def _check_alive(supervisor: Supervisor, bus: Bus) -> None:
    if bus.embedded is not None and bus.embedded.process is not None and bus.embedded.process.poll() is not None:
        raise StackFailedError(f"the embedded nats-server exited with code {bus.embedded.process.returncode}")
    dead = supervisor.exited()
    if dead is not None:
        log = tail(dead.log_path)
        raise StackFailedError(
            f"{dead.name} exited with code {dead.process.returncode}; last lines of {dead.log_path}:\n{log}"
        )


def _local_key(settings: GatewaySettings, minter: KeyMinter) -> str:
    try:
        api_key, minted = local_api_key(settings, minter)
    except Exception as exc:  # whatever the database reports: say it and stop cleanly
        raise StackFailedError(f"could not get the local API key: {type(exc).__name__}: {exc}") from exc
    _say(("minted" if minted else "using") + f" the local API key saved in {settings.data_dir}")
    return api_key


def _run_stack(options: UpOptions, supervisor: Supervisor, bus: Bus, api_key: str) -> NoReturn:
    """Start the services, wait until healthy, print the instructions, then watch until something dies."""
    env = _child_env(options, bus.url)
    for service in SERVICES:
        child = supervisor.start(service.replace("_", "-"), [sys.executable, "-m", f"switchboard.{service}"], env)
        _say(f"started {child.name} (pid {child.process.pid}), log {child.log_path}")
    base_url = f"http://127.0.0.1:{options.port}"
    try:
        wait_healthy(
            f"{base_url}/v1/health", timeout=HEALTH_TIMEOUT, still_running=lambda: _check_alive(supervisor, bus)
        )
    except HealthTimeoutError as exc:
        raise StackFailedError(f"{exc}; logs in {supervisor.log_dir}") from exc
    _say(f"healthy at {base_url}. Point Claude Code at it:\n")
    print(instructions(base_url, api_key, demo=options.demo) + "\n", flush=True)
    _say("Ctrl-C stops everything.")
    while True:
        _check_alive(supervisor, bus)
        time.sleep(0.5)


def run_up(options: UpOptions, settings: GatewaySettings, minter: KeyMinter = mint) -> int:
    """Exit status: 0 after Ctrl-C or SIGTERM, 1 if the stack could not start or a part of it died."""
    options = UpOptions(options.port, options.demo, options.data_dir.resolve())
    if not _port_is_free(options.port):
        _say(f"port {options.port} is in use (another `switchboard up`?); choose another with --port")
        return 1
    settings = settings.model_copy(update={"data_dir": options.data_dir, "port": options.port})
    with _stop_signals():
        return _serve(options, settings, minter)


def _serve(options: UpOptions, settings: GatewaySettings, minter: KeyMinter) -> int:
    supervisor = Supervisor(options.data_dir / "logs")
    bus: Bus | None = None
    nats_url_file = options.data_dir / NATS_URL_FILE
    monitor_url_file = options.data_dir / MONITOR_URL_FILE
    try:
        api_key = _local_key(settings, minter)
        configured = settings.nats_url if "nats_url" in settings.model_fields_set else None
        bus, passed_over = choose_bus(configured, options.data_dir / "nats")
        if passed_over is not None:
            _say(f"not using NATS_URL={configured}: {passed_over}; starting a private nats-server")
        try:
            bus.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise StackFailedError(f"could not start nats-server: {exc}") from exc
        _say(f"NATS {bus.describe()}")
        nats_url_file.write_text(bus.url + "\n")
        if bus.monitor_url is not None:
            monitor_url_file.write_text(bus.monitor_url + "\n")
        _run_stack(options, supervisor, bus, api_key)
    except (KeyboardInterrupt, _Terminated):
        _ignore_stop_signals()
        _say("stopping…")
        return 0
    except StackFailedError as exc:
        _ignore_stop_signals()
        _say(f"{exc}\nstopping the rest…")
        return 1
    finally:
        _ignore_stop_signals()
        supervisor.stop_all()
        if bus is not None:
            bus.close()
        nats_url_file.unlink(missing_ok=True)
        monitor_url_file.unlink(missing_ok=True)
