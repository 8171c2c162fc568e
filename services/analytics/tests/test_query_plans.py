"""The store's lookups keep their plans on PostgreSQL before any ANALYZE (a new database, or tables
growing faster than autovacuum): a batch's lookups by id are index probes per id, and the raw feedback
join is never a nested loop. Both took seconds per query at tens of thousands of events when the
planner chose by default statistics."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.analytics.domain import DIMENSIONS
from tuneway.analytics.ingest import ClassifiedCompletion, EventWriter
from tuneway.analytics.main import MIGRATIONS
from tuneway.analytics.models import ROLLUP_KEY, events, feedback
from tuneway.analytics.repository import event_sums
from tuneway.analytics.repository.bulk import by_keys, driver_connection
from tuneway.core.db import create_engine, session_factory, upgrade_database

from .conftest import EPOCH_MS, HOUR_MS, MakeCompletion, MakeFeedback

TENANT = "plans"


async def _plan(session: AsyncSession, statement: Any) -> str:
    """EXPLAIN of `statement` as this session would run it."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    connection = await driver_connection(session)
    parameters = [compiled.params[name] for name in compiled.positiontup or ()]
    rows = await connection.fetch(f"EXPLAIN {compiled}", *parameters)
    return "\n".join(row[0] for row in rows)


@pytest.fixture
async def unanalyzed(postgres_url: str, completion: MakeCompletion, feedback: MakeFeedback) -> Any:
    """A PostgreSQL store holding 3,000 completions and 1,000 ratings, never analyzed."""
    await upgrade_database(postgres_url, MIGRATIONS)
    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    writer = EventWriter(sessions)
    made = [completion(TENANT, EPOCH_MS + i * 1000, user=f"u{i}") for i in range(3000)]
    await writer.write([ClassifiedCompletion(event, "billing") for event in made], [])
    await writer.write([], [feedback(event) for event in made[::3]])
    yield sessions, made
    await engine.dispose()


async def test_lookups_by_id_probe_the_primary_key(unanalyzed: Any) -> None:
    sessions, made = unanalyzed
    ids = [event.request_id for event in made[:2000]]
    async with sessions() as session, session.begin():
        for table, key in ((feedback, "completion_id"), (events, "request_id")):
            statement = by_keys(session, table, [table.c.tenant_id], key, [(TENANT, id_) for id_ in ids])
            plan = await _plan(session, statement)
            bare = re.sub(r"[()]|::\w+", "", plan)  # no parentheses or casts
            assert f"Index Cond: tenant_id = wanted.tenant AND {key} = wanted.key" in bare, plan
            assert "Seq Scan" not in plan and "Hash" not in plan, plan


async def test_raw_feedback_join_is_never_a_nested_loop(unanalyzed: Any) -> None:
    sessions, _ = unanalyzed
    window = (EPOCH_MS, EPOCH_MS + 2 * HOUR_MS)
    args = (TENANT, window, ("assistant", "language", "channel"), HOUR_MS, {})
    async with sessions() as session, session.begin():
        rows = await event_sums.judgements(session, *args)
        assert len(rows) == 1000
        plan = await _plan(session, event_sums.judgements_statement(*args))
        assert "Nested Loop" not in plan, plan


async def test_analyze_gathers_statistics_only_where_a_query_filters_or_groups(
    unanalyzed: Any, completion: MakeCompletion
) -> None:
    # The measures are only summed: their statistics would guide no plan and were most of ANALYZE's work
    # (migration 0005).
    sessions, _ = unanalyzed
    failed = completion(TENANT, EPOCH_MS, status="error", error_code="server_error")
    await EventWriter(sessions).write([ClassifiedCompletion(failed, "billing")], [])
    async with sessions() as session, session.begin():
        connection = await driver_connection(session)
        await connection.execute("ANALYZE events, rollups, rollup_errors")
        rows = await connection.fetch(
            "SELECT tablename, attname FROM pg_stats WHERE schemaname = 'public'"
            " AND tablename IN ('events', 'rollups', 'rollup_errors')"
        )
    analyzed: dict[str, set[str]] = {}
    for row in rows:
        analyzed.setdefault(row["tablename"], set()).add(row["attname"])
    assert analyzed["rollups"] == set(ROLLUP_KEY)
    assert analyzed["rollup_errors"] == {*ROLLUP_KEY, "error_code"}
    assert analyzed["events"] == {
        "tenant_id",
        "request_id",
        "created_at_ms",
        *DIMENSIONS,
        "experiment_id",
        "status",
        "error_code",
    }
