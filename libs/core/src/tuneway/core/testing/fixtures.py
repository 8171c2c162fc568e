"""pytest fixtures shared by every test directory: a private NATS server, throwaway PostgreSQL and SQLite
databases, a tenant of the test's own, and the domain error of a failing RPC."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tuneway.core.errors import DomainError, from_rpc_error
from tuneway.core.testing.processes import NatsServer, free_port, port_open
from tuneway.core.testing.prometheus import PrometheusServer, prometheus_binary

POSTGRES_ADMIN_URL = os.environ.get("TUNEWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A private nats-server with JetStream, started for this test session; tests may stop and start it."""
    server = NatsServer(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: NatsServer) -> str:
    """URL of the session's private nats-server."""
    return nats_server.url


@pytest.fixture
def prometheus(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[dict[str, str]], PrometheusServer]]:
    """prometheus({job: metrics URL}): a real Prometheus on a free port scraping those URLs every second,
    with a temporary config and storage; stopped after the test. Skips without the binary."""
    if prometheus_binary() is None:
        pytest.skip("prometheus is not on PATH (make install installs it)")
    started: list[PrometheusServer] = []

    def start(targets: dict[str, str]) -> PrometheusServer:
        server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), free_port(), targets, interval="1s")
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """An asyncpg URL of a fresh PostgreSQL database, dropped afterwards; skips without a server."""
    asyncpg = pytest.importorskip("asyncpg")
    if not port_open("127.0.0.1", 5432):
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    name = f"tuneway_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    yield f"{base}/{name}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An aiosqlite URL of a database file in the test's temporary directory."""
    return f"sqlite+aiosqlite:///{(tmp_path / 'test.db').as_posix()}"


@pytest.fixture
def tenant() -> str:
    """A tenant id of this test alone, so tests sharing a service never see each other's data."""
    return f"tenant-{uuid.uuid4().hex[:8]}"


async def _rpc_error(call: Awaitable[Any]) -> DomainError:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return from_rpc_error(error)
    raise AssertionError("the call succeeded")


@pytest.fixture
def rpc_error() -> Callable[[Awaitable[Any]], Awaitable[DomainError]]:
    """Awaits an RPC that must fail and returns its domain error (with param and code)."""
    return _rpc_error
