"""Drives a metering process from the outside: plays the orchestrator on the usage stream and asks over NATS."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import nats
from nats.aio.client import Client

from fakes.lago import FakeLago
from support.processes import ServiceProcess
from switchboard.common.events import CompletionRecorded, utc_now
from switchboard.common.subjects import Subjects
from switchboard.common.usage_events import MeteringStatus, QueryUsage, UsageReported
from switchboard.orchestrator.usage_stream import UsageStream

__all__ = ["MeteringHarness", "make_completion", "metering_env"]


def make_completion(request_id: str, user_id: str = "alice", **fields: object) -> CompletionRecorded:
    values: dict[str, object] = {
        "event_id": f"completion-{request_id}",
        "request_id": request_id,
        "user_id": user_id,
        "requested_model": "claude-sonnet",
        "upstream_model": "claude-sonnet-4",
        "provider": "anthropic",
        "status": "succeeded",
        "http_status": 200,
        "input_tokens": 100,
        "output_tokens": 7,
        "started_at": utc_now(),
        "latency_ms": 12.5,
        "tool_use_count": 1,
    }
    return CompletionRecorded.model_validate({**values, **fields})


def metering_env(lago: FakeLago | None, *, lago_timeout: float) -> dict[str, str]:
    """What every test's metering runs with: quick flushes, quick redelivery, and the fake Lago if there is one."""
    env = {
        "SWITCHBOARD_LAGO_FLUSH_INTERVAL": "0.2",
        "SWITCHBOARD_METERING_ACK_WAIT": "5",  # a killed replica's batch is redelivered after 5 s, not 30
        "SWITCHBOARD_LAGO_TIMEOUT": str(lago_timeout),
    }
    if lago is not None:
        env |= {"LAGO_API_URL": lago.url, "LAGO_API_KEY": lago.api_key}
    return env


class MeteringHarness:
    """One test's prefix, its NATS connection, and the metering processes it started."""

    def __init__(self, nats_url: str, tmp_path: Path, lago: FakeLago | None, **env: str) -> None:
        self.subjects = Subjects(f"sbm{secrets.token_hex(4)}")
        self.nats_url = nats_url
        self.tmp_path = tmp_path
        self.env = {
            "NATS_URL": nats_url,
            "SWITCHBOARD_SUBJECT_PREFIX": self.subjects.prefix,
            "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"),
            **metering_env(lago, lago_timeout=1),
            **env,
        }
        self.processes: list[ServiceProcess] = []
        self.nc: Client | None = None

    async def __aenter__(self) -> MeteringHarness:
        self.nc = await nats.connect(self.nats_url)
        await UsageStream(self.nc.jetstream(), self.subjects).ensure()  # the orchestrator owns its config
        return self

    async def __aexit__(self, *_: object) -> None:
        for process in self.processes:
            process.stop(timeout=15)
        assert self.nc is not None
        await self.nc.close()

    def start(self) -> ServiceProcess:
        process = ServiceProcess("metering", self.env, self.tmp_path / f"metering-{len(self.processes)}.log")
        process.start()
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(process.log() for process in self.processes)

    async def publish(self, *completions: CompletionRecorded, msg_id: str | None = None) -> None:
        assert self.nc is not None
        js = self.nc.jetstream()
        for completion in completions:
            await js.publish(
                self.subjects.completion_recorded(completion.user_id),
                completion.model_dump_json().encode(),
                stream=self.subjects.usage_stream,
                headers={"Nats-Msg-Id": msg_id or completion.event_id},
                timeout=5,
            )

    async def publish_raw(self, user: str, data: bytes) -> None:
        assert self.nc is not None
        await self.nc.jetstream().publish(
            self.subjects.completion_recorded(user), data, stream=self.subjects.usage_stream, timeout=5
        )

    async def request(self, subject: str, payload: bytes) -> bytes:
        assert self.nc is not None
        for _ in range(200):
            try:
                return (await self.nc.request(subject, payload, timeout=5)).data
            except nats.errors.NoRespondersError:
                await asyncio.sleep(0.1)
        raise AssertionError(f"nobody answered on {subject}")

    async def usage(self, user_id: str | None, start: date | None = None, end: date | None = None) -> UsageReported:
        today = utc_now().date()
        query = QueryUsage(user_id=user_id, start=start or today, end=end or today)
        return UsageReported.model_validate_json(
            await self.request(self.subjects.query_usage, query.model_dump_json().encode())
        )

    async def status(self) -> MeteringStatus:
        return MeteringStatus.model_validate_json(await self.request(self.subjects.metering_status, b"{}"))

    async def eventually(self, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.logs()[-4000:]}")
            await asyncio.sleep(0.05)

    async def settled(self, timeout: float = 20.0) -> MeteringStatus:
        """Wait until metering reports nothing pending."""
        deadline = time.monotonic() + timeout
        while True:
            status = await self.status()
            if status.pending == 0:
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"still pending: {status}\n{self.logs()[-4000:]}")
            await asyncio.sleep(0.1)
