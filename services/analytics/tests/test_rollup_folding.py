"""Daily rollup rows folded from closed hours, on SQLite and PostgreSQL: summaries give the same exact
numbers before and after a fold, late events and feedback for folded days count once in both levels,
a fold never runs twice over a day, the open day has hourly rows only, and a store migrated with daily
rows starts as folded up to them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.domain import Slice, Summary, Window
from tuneway.analytics.ingest import ClassifiedCompletion, EventWriter
from tuneway.analytics.repository import folds
from tuneway.analytics.rollup_folding import fold_closed_days
from tuneway.analytics.summaries import SummaryReader
from tuneway.api.events.v1 import events_pb2

Sessions = async_sessionmaker[AsyncSession]
MakeCompletion = Callable[..., events_pb2.CompletionEvent]
MakeFeedback = Callable[..., events_pb2.FeedbackEvent]
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
EPOCH_MS = 1_767_225_600_000  # a day start, UTC
WEEK = Window(EPOCH_MS - DAY_MS, EPOCH_MS + 8 * DAY_MS)


def classified(*events: events_pb2.CompletionEvent) -> list[ClassifiedCompletion]:
    return [ClassifiedCompletion(event, "orders") for event in events]


async def summary(sessions: Sessions, tenant: str, **kwargs: object) -> Summary:
    return await SummaryReader(sessions).summary(Slice(tenant, WEEK, **kwargs))  # type: ignore[arg-type]


async def daily_rows(sessions: Sessions) -> dict[int, int]:
    """day start -> daily rollup rows (every tenant, every set)."""
    async with sessions() as session:
        result = await session.execute(
            text(
                "SELECT bucket_start_ms, COUNT(*) FROM rollups WHERE period_ms = :day"
                " GROUP BY bucket_start_ms"
            ),
            {"day": DAY_MS},
        )
        return {int(day): int(count) for day, count in result.all()}


async def test_folding_changes_no_number_and_late_data_counts_once(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    rng = np.random.default_rng(3)
    events = [
        completion(
            tenant,
            int(EPOCH_MS + offset),
            channel=str(channel),
            latency_ms=float(latency),
            status="error" if i % 9 == 0 else "ok",
            error_code="server_error" if i % 9 == 0 else "",
            user=f"user{i}",
        )
        for i, (offset, channel, latency) in enumerate(
            zip(
                rng.integers(0, 4 * DAY_MS, size=300),
                rng.choice(["web", "app"], size=300),
                rng.lognormal(6.0, 1.0, size=300),
                strict=True,
            )
        )
    ]
    writer = EventWriter(sessions)
    for start in range(0, len(events), 64):
        await writer.write(classified(*events[start : start + 64]), [])
    await writer.write([], [feedback(e, rating=1 if i % 3 else -1) for i, e in enumerate(events[:90])])
    # Nothing folded yet: no daily rows, and the summaries read hours.
    assert await daily_rows(sessions) == {}
    before = await summary(sessions, tenant, group_by=("channel",))
    days_before = await SummaryReader(sessions).timeseries(Slice(tenant, WEEK), "day")
    assert before.total.requests == 300 and before.total.feedback_count == 90

    # Days 0-2 have ended (the fourth is open): folded into daily rows; every number stays the same.
    folded = await fold_closed_days(sessions, EPOCH_MS + 3 * DAY_MS + 2 * HOUR_MS, grace_ms=HOUR_MS)
    assert folded == (0, EPOCH_MS + 3 * DAY_MS)
    assert sorted(await daily_rows(sessions)) == [EPOCH_MS + d * DAY_MS for d in range(3)]
    assert await summary(sessions, tenant, group_by=("channel",)) == before
    assert await SummaryReader(sessions).timeseries(Slice(tenant, WEEK), "day") == days_before
    # Again: nothing to fold, nothing added twice.
    assert await fold_closed_days(sessions, EPOCH_MS + 3 * DAY_MS + 3 * HOUR_MS, grace_ms=HOUR_MS) == (
        EPOCH_MS + 3 * DAY_MS,
        EPOCH_MS + 3 * DAY_MS,
    )
    assert await summary(sessions, tenant, group_by=("channel",)) == before

    # Late: an event in folded day 1, a replacing rating on a day-0 completion, an event in the open day.
    late = completion(tenant, EPOCH_MS + DAY_MS + 5 * HOUR_MS, channel="app", user="late")
    first = events[0]
    replacing = feedback(first, at_ms=first.created_at_ms + 10 * DAY_MS, rating=1)
    open_day = completion(tenant, EPOCH_MS + 3 * DAY_MS + HOUR_MS, channel="web")
    await writer.write(classified(late, open_day), [replacing])
    after = await summary(sessions, tenant, group_by=("channel",))
    assert after.total.requests == 302
    by_channel = {row.group["channel"]: row.measures.requests for row in after.rows}
    expected = {c: sum(e.channel == c for e in events) for c in ("web", "app")}
    assert by_channel == {"web": expected["web"] + 1, "app": expected["app"] + 1}
    # events[0]'s rating was -1 (i % 3 == 0): now +1.
    assert after.total.positive_count == before.total.positive_count + 1
    assert after.total.feedback_count == 90
    # The open day still has no daily row; the daily and hourly rows of folded days agree.
    assert EPOCH_MS + 3 * DAY_MS not in await daily_rows(sessions)
    hours = await SummaryReader(sessions).timeseries(Slice(tenant, WEEK), "hour")
    days = await SummaryReader(sessions).timeseries(Slice(tenant, WEEK), "day")
    per_day: dict[int, list[int]] = {}
    for point in hours:
        counts = per_day.setdefault(point.bucket_start_ms - point.bucket_start_ms % DAY_MS, [0, 0, 0])
        counts[0] += point.measures.requests
        counts[1] += point.measures.positive_count
        counts[2] += point.measures.errors
    assert per_day == {
        p.bucket_start_ms: [p.measures.requests, p.measures.positive_count, p.measures.errors] for p in days
    }
    # Across the fold mark, a window that starts mid-day reads hours, days, then the open day's hours.
    window = Window(EPOCH_MS + 6 * HOUR_MS, EPOCH_MS + 4 * DAY_MS)
    inside = [e for e in [*events, late, open_day] if e.created_at_ms >= window.from_ms]
    got = await SummaryReader(sessions).summary(Slice(tenant, window))
    assert got.total.requests == len(inside)
    assert got.total.errors_by_code == {"server_error": sum(e.status == "error" for e in inside)}


async def test_the_fold_waits_for_a_batch_that_read_the_old_mark(postgres_url: str) -> None:
    """PostgreSQL: a batch holds the mark FOR SHARE until it commits; a fold started meanwhile waits and
    then sees the batch's hours (SQLite has one writer at a time)."""
    from tuneway.analytics.main import MIGRATIONS
    from tuneway.core.db import create_engine, session_factory, upgrade_database

    await upgrade_database(postgres_url, MIGRATIONS)
    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            assert await folds.folded_until(session, lock=True) == 0
            fold = asyncio.create_task(fold_closed_days(sessions, EPOCH_MS + DAY_MS, grace_ms=0))
            await asyncio.sleep(0.5)
            assert not fold.done()
        assert await fold == (0, EPOCH_MS + DAY_MS)
    finally:
        await engine.dispose()


async def test_a_migrated_store_starts_folded_up_to_its_daily_rows(db_url: str) -> None:
    from alembic import command

    from tuneway.analytics.main import MIGRATIONS
    from tuneway.core.db import _alembic_config, create_engine, session_factory

    url = db_url
    await asyncio.to_thread(command.upgrade, _alembic_config(MIGRATIONS, url), "0002")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO rollups SELECT 't', 0, :day, :start, '', ''" + ", 0" * (11 + 84)),
                {"day": DAY_MS, "start": EPOCH_MS + 2 * DAY_MS},
            )
        await asyncio.to_thread(command.upgrade, _alembic_config(MIGRATIONS, url), "head")
        async with session_factory(engine)() as session:
            assert await folds.folded_until(session) == EPOCH_MS + 3 * DAY_MS
    finally:
        await engine.dispose()
