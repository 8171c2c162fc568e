"""Fixtures of the analytics tests: the real store on SQLite and PostgreSQL, and event builders."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.main import MIGRATIONS, AnalyticsServer
from tuneway.analytics.settings import AnalyticsSettings
from tuneway.api.analytics.v1 import analytics_pb2_grpc
from tuneway.api.events.v1 import events_pb2
from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.grpc_client import create_channel
from tuneway.core.nats import EVENTS_STREAM, ensure_stream
from tuneway.core.testing.processes import free_port

Stub = analytics_pb2_grpc.AnalyticsServiceStub

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# A Monday at 00:00 UTC: tests place events at known hours and days after it.
EPOCH_MS = 1_767_225_600_000
_ids = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same suite runs on the embedded SQLite store and on PostgreSQL."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url"))


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a migrated store."""
    await upgrade_database(db_url, MIGRATIONS)
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


def _completion(tenant: str, at_ms: int = EPOCH_MS, **fields: Any) -> events_pb2.CompletionEvent:
    """A successful assistant chat completion of `tenant` at `at_ms`, with `fields` overriding."""
    values: dict[str, Any] = {
        "request_id": f"chatcmpl-{next(_ids)}-{uuid.uuid4().hex[:6]}",
        "tenant_id": tenant,
        "created_at_ms": at_ms,
        "endpoint": "chat.completions",
        "kind": "assistant",
        "model": "assistant:support",
        "base_model": "demo-base",
        "assistant": "support",
        "prompt_name": "support",
        "prompt_version": 1,
        "variant": "default",
        "language": "en",
        "channel": "web",
        "status": "ok",
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "latency_ms": 250.0,
        "time_to_first_token_ms": 80.0,
        "last_user_message": "where is my order?",
    }
    values.update(fields)
    return events_pb2.CompletionEvent(**values)


def _feedback(
    completion_event: events_pb2.CompletionEvent, at_ms: int | None = None, **fields: Any
) -> events_pb2.FeedbackEvent:
    """A +1 rating of `completion_event` by its user, with `fields` overriding."""
    values: dict[str, Any] = {
        "feedback_id": f"fb-{next(_ids)}-{uuid.uuid4().hex[:6]}",
        "tenant_id": completion_event.tenant_id,
        "completion_id": completion_event.request_id,
        "user": completion_event.user,
        "created_at_ms": at_ms if at_ms is not None else completion_event.created_at_ms + 1000,
        "rating": 1,
    }
    values.update(fields)
    return events_pb2.FeedbackEvent(**values)


MakeCompletion = Callable[..., events_pb2.CompletionEvent]
MakeFeedback = Callable[..., events_pb2.FeedbackEvent]


@pytest.fixture
def completion() -> MakeCompletion:
    """Builds a successful assistant chat completion: completion(tenant, at_ms, **fields)."""
    return _completion


@pytest.fixture
def feedback() -> MakeFeedback:
    """Builds a +1 rating of a completion by its user: feedback(completion, at_ms, **fields)."""
    return _feedback


@pytest.fixture(scope="session")
async def retriever_target(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A real retriever replica (its MiniLM embedder answers Embed) for the whole session."""
    from tuneway.retriever.embedder import load_embedder
    from tuneway.retriever.main import RetrieverServer
    from tuneway.retriever.settings import RetrieverSettings

    data = tmp_path_factory.mktemp("retriever")
    port = free_port()
    settings = RetrieverSettings(
        database_url=f"sqlite+aiosqlite:///{(data / 'retriever.db').as_posix()}",
        grpc_port=port,
        host="127.0.0.1",
        data_dir=data,
        metrics_port=0,
    )
    backend = RetrieverSettings.model_fields["embedder_backend"].default
    server = RetrieverServer(settings, load_embedder(backend, 32, data / "embedders"))
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop()


def analytics_settings(
    db_url: str, nats_url: str, retriever: str, data_dir: Path, **overrides: Any
) -> AnalyticsSettings:
    """Settings of a test replica: its own ports, short fetches and back-offs."""
    values: dict[str, Any] = {
        "database_url": db_url,
        "nats_url": nats_url,
        "retriever_target": retriever,
        "grpc_port": free_port(),
        "host": "127.0.0.1",
        "metrics_port": 0,
        "data_dir": data_dir,
        "fetch_timeout_seconds": 0.2,
        "retry_initial_seconds": 0.2,
        "retry_max_seconds": 1.0,
        "drain_seconds": 0.5,
        "raw_retention_days": 0,
    }
    values.update(overrides)
    return AnalyticsSettings(**values)


class Replica:
    """Starts, stops and restarts one analytics replica on one store."""

    def __init__(self, settings: AnalyticsSettings) -> None:
        self.settings = settings
        self.server: AnalyticsServer | None = None
        self.channel: grpc.aio.Channel | None = None
        self.stub: Stub | None = None

    async def start(self) -> Stub:
        self.server = AnalyticsServer(self.settings)
        await self.server.start()
        self.channel = create_channel(f"127.0.0.1:{self.settings.grpc_port}")
        self.stub = Stub(self.channel)
        return self.stub

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.close()
            self.channel = None
        if self.server is not None:
            await self.server.stop()
            self.server = None


@pytest.fixture
async def replica(
    db_url: str, nats_url: str, retriever_target: str, tmp_path: Path
) -> AsyncIterator[Replica]:
    """An analytics replica on a fresh store, consuming the session's NATS."""
    started = Replica(analytics_settings(db_url, nats_url, retriever_target, tmp_path / "data"))
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def stub(replica: Replica) -> Stub:
    assert replica.stub is not None
    return replica.stub


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    """A JetStream context of a publisher (the gateway's role)."""
    client = await nats.connect(nats_url)
    context = client.jetstream()
    await ensure_stream(context, EVENTS_STREAM)
    yield context
    await client.close()
