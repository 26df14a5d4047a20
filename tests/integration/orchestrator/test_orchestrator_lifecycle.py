"""Starting and stopping a replica: the console entry point, signals, shutdown of in-flight work, bad config."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nats.errors
import pytest
from nats.aio.client import Client

from fakes.anthropic_provider import FakeAnthropic
from integration.orchestrator.orchestrator_harness import Gateway, Launch, message_body
from support.processes import ServiceProcess
from switchboard.common.subjects import Subjects


async def test_shutdown_lets_short_work_finish_and_cuts_long_work_with_529(
    launch: Launch, bus: Client, subjects: Subjects
) -> None:
    app = await launch()
    gateway = Gateway(bus, subjects)
    short = await gateway.open(gateway.request(message_body("[[fake:delay=0.3]] short")))
    long = await gateway.open(gateway.request(message_body("[[fake:delay=5]] long", stream=True), stream=True))
    await short.until("accepted")
    await long.until("accepted")

    await app.stop(grace=1.0)

    assert (await short.finish()).kinds() == ["accepted", "body", "end"]
    await long.finish()
    assert long.kinds() == ["accepted", "error", "end"]
    assert long.only("error").status == 529


def orchestrator_env(nats_url: str, subjects: Subjects, fake: FakeAnthropic, **extra: str) -> dict[str, str]:
    return {
        "NATS_URL": nats_url,
        "SWITCHBOARD_SUBJECT_PREFIX": subjects.prefix,
        "ANTHROPIC_UPSTREAM_URL": fake.url,
        "ANTHROPIC_UPSTREAM_API_KEY": fake.api_key,
        "SWITCHBOARD_DEMO": "1",
        "SWITCHBOARD_LOG_LEVEL": "INFO",
        **extra,
    }


async def ping(bus: Client, subjects: Subjects, timeout: float) -> dict[str, object]:
    for _ in range(int(timeout / 0.1)):
        try:
            answer = await bus.request(subjects.ping("orchestrator"), b"{}", timeout=0.5)
            return dict(json.loads(answer.data))
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            await asyncio.sleep(0.1)
    pytest.fail("the orchestrator process never answered a ping")


async def test_console_entry_point_serves_and_stops_on_sigterm(
    nats_url: str, bus: Client, subjects: Subjects, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    process = ServiceProcess("orchestrator", orchestrator_env(nats_url, subjects, fake_anthropic), tmp_path / "o.log")
    process.start()
    try:
        assert (await ping(bus, subjects, timeout=20.0))["inflight"] == 0
        gateway = Gateway(bus, subjects)
        reply = await gateway.call(gateway.request(message_body("hi", model="demo"), model="demo"))
        assert reply.kinds() == ["accepted", "body", "end"]
    finally:
        exit_code = await asyncio.to_thread(process.stop)  # SIGTERM
    assert exit_code == 0
    assert "Traceback" not in process.log()
    assert fake_anthropic.api_key not in process.log()
    assert "shutting down" in process.log()


def test_bad_routing_config_exits_with_a_message(
    nats_url: str, subjects: Subjects, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    config = tmp_path / "routes.json"
    config.write_text(json.dumps({"model_mapping": {"*": {"provider": "nowhere"}}}))
    env = orchestrator_env(nats_url, subjects, fake_anthropic, SWITCHBOARD_CONFIG=str(config))
    process = ServiceProcess("orchestrator", env, tmp_path / "bad.log")
    process.start()
    assert process.process is not None
    try:
        assert process.process.wait(timeout=30) != 0
    finally:
        process.stop()
    assert "names unknown provider 'nowhere'" in process.log()
    assert "Traceback" not in process.log()
