"""Fixtures of the prompt service's tests: real replicas over gRPC on SQLite or PostgreSQL, real NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest

from tuneway.api.prompt.v1 import prompt_pb2_grpc
from tuneway.core.grpc_client import create_channel
from tuneway.core.testing.processes import free_port
from tuneway.prompt_svc.language import LanguageDetector
from tuneway.prompt_svc.main import PromptServer
from tuneway.prompt_svc.settings import PromptSettings

Stub = prompt_pb2_grpc.PromptServiceStub
StartReplica = Callable[[], Awaitable[Stub]]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same suite runs on the embedded SQLite store and on PostgreSQL."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url"))


@pytest.fixture(scope="session")
def detector() -> LanguageDetector:
    """One detector for every replica of the session (building one takes about a second)."""
    return LanguageDetector(PromptSettings().language_codes())


@pytest.fixture
async def start_replica(
    db_url: str, nats_url: str, detector: LanguageDetector, tmp_path: Any
) -> AsyncIterator[StartReplica]:
    """Starts prompt-svc replicas on one database and NATS; returns a stub per replica."""
    servers: list[PromptServer] = []
    channels: list[grpc.aio.Channel] = []

    async def start() -> Stub:
        port = free_port()
        settings = PromptSettings(
            database_url=db_url, nats_url=nats_url, grpc_port=port, host="127.0.0.1", data_dir=tmp_path
        )
        server = PromptServer(settings, detector)
        await server.start()
        servers.append(server)
        channel = create_channel(f"127.0.0.1:{port}")
        channels.append(channel)
        stub = Stub(channel)
        await _wait_live(server)
        return stub

    yield start
    for channel in channels:
        await channel.close()
    for server in servers:
        await server.stop()


async def _wait_live(server: PromptServer) -> None:
    """Waits until the replica's invalidation subscription is up (its cache is live)."""
    import asyncio

    for _ in range(200):
        if server.cache.live:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the replica never subscribed to invalidations")


@pytest.fixture
async def stub(start_replica: StartReplica) -> Stub:
    """A stub of one replica."""
    return await start_replica()
