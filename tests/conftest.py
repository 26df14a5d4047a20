"""Session-wide real infrastructure: a NATS 2.12+ server with JetStream, PostgreSQL, the fake provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.anthropic_provider import FakeAnthropic
from fakes.keycloak import FakeKeycloak
from fakes.openai_provider import FakeOpenAI
from support.postgres import throwaway_database
from support.stack import Stack
from switchboard.cli.embedded_nats import EmbeddedNats


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(store_dir=tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: EmbeddedNats) -> str:
    return nats_server.url


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="session")
def keycloak() -> Iterator[FakeKeycloak]:
    with FakeKeycloak() as fake:
        yield fake


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    nats_server: EmbeddedNats,
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    keycloak: FakeKeycloak,
) -> Iterator[Stack]:
    """The shared stack end-to-end tests run against, once per database backend."""
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    deployment = Stack(
        workdir=tmp_path_factory.mktemp(f"stack-{request.param}"),
        nats_url=nats_server.url,
        fake=fake_anthropic,
        fake_openai=fake_openai,
        keycloak=keycloak,
        database_url=database_url,
        nats_monitor_url=f"http://127.0.0.1:{nats_server.monitor_port}",
    )
    try:
        deployment.start(orchestrators=1)
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def private_stack(
    tmp_path: Path, nats_server: EmbeddedNats, fake_anthropic: FakeAnthropic, keycloak: FakeKeycloak
) -> Iterator[Stack]:
    """A stack of its own for tests that kill or add processes (not started: call ``start``)."""
    deployment = Stack(
        workdir=tmp_path / "stack",
        nats_url=nats_server.url,
        fake=fake_anthropic,
        keycloak=keycloak,
        nats_monitor_url=f"http://127.0.0.1:{nats_server.monitor_port}",
    )
    try:
        yield deployment
    finally:
        deployment.stop()
