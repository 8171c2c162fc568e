"""Fixtures of the analytics tests: the real store on SQLite and PostgreSQL, and event builders."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.main import MIGRATIONS
from tuneway.api.events.v1 import events_pb2
from tuneway.core.db import create_engine, session_factory, upgrade_database

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
