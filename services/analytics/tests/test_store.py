"""The store on SQLite and PostgreSQL: rollups add up exactly what was ingested, feedback counts once in
the right row whatever the order, duplicates count once, and tenants never see each other; a query picks
the rollup set equal to its dimensions, wider ones are answered from the raw events with the same
numbers the rollups give."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.dimensions import dimensions
from tuneway.analytics.domain import Measures, Slice, Window
from tuneway.analytics.histogram import GROWTH
from tuneway.analytics.ingest import ClassifiedCompletion, EventWriter
from tuneway.analytics.repository import rollups
from tuneway.analytics.rollup_batch import RollupBatch
from tuneway.analytics.summaries import SummaryReader
from tuneway.api.events.v1 import events_pb2

Sessions = async_sessionmaker[AsyncSession]
MakeCompletion = Callable[..., events_pb2.CompletionEvent]
MakeFeedback = Callable[..., events_pb2.FeedbackEvent]
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
EPOCH_MS = 1_767_225_600_000  # the builders' default time: a day start, UTC
WHOLE_WEEK = Window(EPOCH_MS - DAY_MS, EPOCH_MS + 8 * DAY_MS)


def classified(*events: events_pb2.CompletionEvent, query_type: str = "orders") -> list[ClassifiedCompletion]:
    return [ClassifiedCompletion(event, query_type) for event in events]


async def total(sessions: Sessions, tenant: str, window: Window = WHOLE_WEEK, **kwargs: Any) -> Measures:
    return (await SummaryReader(sessions).summary(Slice(tenant, window, **kwargs))).total


def within_bucket(estimate: float | None, exact: float) -> bool:
    """An interpolated percentile is off by less than its bucket's width (40% of the value)."""
    assert estimate is not None
    return abs(estimate - exact) <= max(exact * (GROWTH - 1), 1.0)


async def test_rollups_match_what_was_ingested(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    rng = np.random.default_rng(7)
    latencies = rng.lognormal(mean=6.0, sigma=1.0, size=600)
    ttfts = rng.lognormal(mean=4.5, sigma=0.8, size=600)
    channels = rng.choice(["web", "app", "email"], size=600)
    # Spread over four days and every hour, so summaries read daily and hourly rows together.
    offsets = rng.integers(0, 4 * DAY_MS, size=600)
    events = [
        completion(
            tenant,
            int(EPOCH_MS + offset),
            latency_ms=float(latency),
            time_to_first_token_ms=float(ttft),
            channel=str(channel),
            prompt_tokens=int(i % 7),
            status="error" if i % 10 == 0 else "ok",
            error_code="rate_limit_exceeded" if i % 20 == 0 else ("server_error" if i % 10 == 0 else ""),
        )
        for i, (latency, ttft, channel, offset) in enumerate(
            zip(latencies, ttfts, channels, offsets, strict=True)
        )
    ]
    writer = EventWriter(sessions)
    for start in range(0, len(events), 128):
        await writer.write(classified(*events[start : start + 128]), [])

    # Half-way through the first day to half-way through the fourth: hours, then days, then hours.
    window = Window(EPOCH_MS + 12 * HOUR_MS + 1234, EPOCH_MS + 3 * DAY_MS + 12 * HOUR_MS)
    inside = [
        e for e in events if EPOCH_MS + 12 * HOUR_MS <= e.created_at_ms < EPOCH_MS + 3 * DAY_MS + 12 * HOUR_MS
    ]
    summary = await SummaryReader(sessions).summary(Slice(tenant, window, group_by=("channel",)))
    assert summary.total.requests == len(inside)
    assert summary.total.errors == sum(e.status == "error" for e in inside)
    assert summary.total.errors_by_code == {
        "rate_limit_exceeded": sum(e.error_code == "rate_limit_exceeded" for e in inside),
        "server_error": sum(e.error_code == "server_error" for e in inside),
    }
    assert summary.total.prompt_tokens == sum(e.prompt_tokens for e in inside)
    assert summary.total.completion_tokens == 20 * len(inside)
    exact = [e.latency_ms for e in inside]
    assert within_bucket(summary.total.latency_p50_ms, float(np.percentile(exact, 50)))
    assert within_bucket(summary.total.latency_p95_ms, float(np.percentile(exact, 95)))
    exact_ttft = [e.time_to_first_token_ms for e in inside]
    assert within_bucket(summary.total.time_to_first_token_p50_ms, float(np.percentile(exact_ttft, 50)))
    by_channel = {row.group["channel"]: row.measures for row in summary.rows}
    assert set(by_channel) == {"web", "app", "email"}
    for channel, measures in by_channel.items():
        mine = [e for e in inside if e.channel == channel]
        assert measures.requests == len(mine)
        assert within_bucket(measures.latency_p50_ms, float(np.percentile([e.latency_ms for e in mine], 50)))

    filtered = await total(sessions, tenant, window, filters={"channel": "app"})
    assert filtered.requests == by_channel["app"].requests

    series = await SummaryReader(sessions).timeseries(Slice(tenant, window), "day")
    assert [point.bucket_start_ms for point in series] == [EPOCH_MS + d * DAY_MS for d in range(4)]
    assert sum(point.measures.requests for point in series) == len(inside)
    assert series[0].measures.requests == sum(e.created_at_ms < EPOCH_MS + DAY_MS for e in inside)
    hourly = await SummaryReader(sessions).timeseries(Slice(tenant, window), "hour")
    assert sum(point.measures.requests for point in hourly) == len(inside)
    assert all(point.bucket_start_ms % HOUR_MS == 0 for point in hourly)


async def test_duplicates_count_once(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    writer = EventWriter(sessions)
    event = completion(tenant)
    first = await writer.write(classified(event, event), [])
    again = await writer.write(classified(event), [])
    assert (len(first.new_completions), first.duplicate_completions) == (1, 1)
    assert (len(again.new_completions), again.duplicate_completions) == (0, 1)
    assert (await total(sessions, tenant)).requests == 1


async def test_a_redelivered_batch_counts_only_what_is_new(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    """A batch holding stored and new completions, feedback on both and feedback that arrived before
    its completion: the writer builds the rollup rows while the events are inserted, as if all were
    new, and must build them again from what the insert found new."""
    writer = EventWriter(sessions)
    stored, arriving = completion(tenant, user="ann"), completion(tenant, user="bob")
    await writer.write(classified(stored), [feedback(stored, rating=1)])
    await writer.write([], [feedback(arriving, rating=1)])  # before its completion
    replacing = feedback(stored, at_ms=stored.created_at_ms + 60_000, rating=-1)
    result = await writer.write(
        classified(stored, arriving), [replacing, feedback(arriving, user="carol", rating=1)]
    )
    assert result.duplicate_completions == 1
    assert [c.event.request_id for c in result.new_completions] == [arriving.request_id]
    assert {f.completion_id: dims is not None for f, dims in result.new_feedback} == {
        stored.request_id: True,
        arriving.request_id: True,
    }
    measures = await total(sessions, tenant)
    assert (measures.requests, measures.feedback_count, measures.positive_count) == (2, 3, 2)


@pytest.mark.parametrize("nulls_first", [True, False])
async def test_rollup_rows_with_null_zeros_and_with_zeros_add_up(
    sessions: Sessions, tenant: str, completion: MakeCompletion, nulls_first: bool
) -> None:
    # The writer leaves a zero measure NULL on PostgreSQL and 0 on SQLite (RollupBatch.rows), and a
    # SQLite store written before that holds NULLs: rows of either kind must add to rows of the other.
    first = [completion(tenant, EPOCH_MS + i, prompt_tokens=3, latency_ms=100.0) for i in range(5)]
    second = [
        completion(tenant, EPOCH_MS + 10 + i, prompt_tokens=4, status="error", error_code="x")
        for i in range(3)
    ]
    for events, nulls in ((first, nulls_first), (second, not nulls_first)):
        batch = RollupBatch()
        batch.add_events(events, [dimensions(e, "orders") for e in events], [False] * len(events))
        async with sessions() as session, session.begin():
            await rollups.add(session, batch.rows(0, zeros_as_null=nulls))
    measures = await total(sessions, tenant)
    assert (measures.requests, measures.errors, measures.prompt_tokens) == (8, 3, 27)
    assert measures.errors_by_code == {"x": 3}
    # Five at 100 ms and three at the builder's 250: each side's latency histogram counts.
    assert within_bucket(measures.latency_p50_ms, 100.0) and within_bucket(measures.latency_p95_ms, 250.0)
    by_channel = await SummaryReader(sessions).summary(Slice(tenant, WHOLE_WEEK, group_by=("channel",)))
    assert [(row.group, row.measures.requests) for row in by_channel.rows] == [({"channel": "web"}, 8)]


async def test_feedback_after_before_and_replacing(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    writer = EventWriter(sessions)
    early, late = completion(tenant, user="ann"), completion(tenant, user="bob")
    await writer.write(classified(early), [])
    # After its completion: counts at once.
    await writer.write([], [feedback(early, rating=1)])
    measures = await total(sessions, tenant)
    assert (measures.feedback_count, measures.positive_count) == (1, 1)

    # Before its completion: kept, counted when the completion arrives.
    before = feedback(late, score=2.0, scale="1-5", rating=0)
    await writer.write([], [before])
    assert (await total(sessions, tenant)).feedback_count == 1
    await writer.write(classified(late), [])
    measures = await total(sessions, tenant)
    assert (measures.feedback_count, measures.positive_count, measures.score_count) == (2, 1, 1)
    assert measures.mean_score == pytest.approx(0.25)

    # A later submission by the same user replaces the earlier; an older one arriving late does not.
    replacing = feedback(late, at_ms=before.created_at_ms + 10, score=5.0, scale="1-5", rating=0)
    stale = feedback(late, at_ms=before.created_at_ms + 5, rating=-1)
    result = await writer.write([], [replacing, stale, replacing])
    assert result.duplicate_feedback == 1
    measures = await total(sessions, tenant)
    assert (measures.feedback_count, measures.positive_count, measures.score_count) == (2, 2, 1)
    assert measures.mean_score == pytest.approx(1.0)

    # Another user's feedback on the same completion is its own.
    await writer.write([], [feedback(late, user="carol", score=0.2, scale="0-1", rating=0)])
    measures = await total(sessions, tenant)
    assert (measures.feedback_count, measures.positive_count, measures.score_count) == (3, 2, 2)
    assert measures.mean_score == pytest.approx(0.6)


async def test_feedback_and_its_completion_in_one_batch(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    event = completion(tenant, user="dan")
    await EventWriter(sessions).write(classified(event), [feedback(event, rating=-1)])
    measures = await total(sessions, tenant)
    assert (measures.requests, measures.feedback_count, measures.positive_count) == (1, 1, 0)


async def test_knowledge_and_human_requests(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    writer = EventWriter(sessions)
    await writer.write(
        classified(
            completion(tenant, knowledge_sources=3),
            completion(tenant, knowledge_no_answer=True),
            completion(tenant, kind="base", assistant=""),
        )
        + classified(completion(tenant), query_type="asks for a human"),
        [],
    )
    measures = await total(sessions, tenant)
    assert (measures.requests, measures.knowledge_requests, measures.no_answer_count) == (4, 2, 1)
    assert measures.no_answer_rate == pytest.approx(0.5)
    assert measures.human_request_count == 1
    grouped = await SummaryReader(sessions).summary(
        Slice(tenant, WHOLE_WEEK, group_by=("query_type", "kind"))
    )
    assert {(r.group["query_type"], r.group["kind"]): r.measures.requests for r in grouped.rows} == {
        ("orders", "assistant"): 2,
        ("orders", "base"): 1,
        ("asks for a human", "assistant"): 1,
    }


async def test_tenants_see_only_their_own(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    writer = EventWriter(sessions)
    other = f"{tenant}-other"
    mine = completion(tenant)
    theirs = completion(other, request_id=mine.request_id)
    await writer.write(classified(mine, theirs), [feedback(theirs, completion_id=mine.request_id)])
    assert (await total(sessions, tenant)).requests == 1
    assert (await total(sessions, tenant)).feedback_count == 0
    assert (await total(sessions, other)).feedback_count == 1


async def test_unknown_dimensions_and_bad_windows_are_refused() -> None:
    from tuneway.core.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError) as error:
        Slice("t", WHOLE_WEEK, group_by=("colour",))
    assert error.value.param == "group_by" and "colour" in error.value.message
    with pytest.raises(InvalidArgumentError) as error:
        Slice("t", WHOLE_WEEK, filters={"shape": "x"})
    assert error.value.param == "filters" and "shape" in error.value.message
    with pytest.raises(InvalidArgumentError) as error:
        Window(10, 10)
    assert error.value.param == "from_ms"


async def test_retention_deletes_raw_events_and_keeps_rollups(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    from tuneway.analytics.drill_down import EventBrowser
    from tuneway.analytics.retention import delete_expired

    old, recent = completion(tenant, EPOCH_MS), completion(tenant, EPOCH_MS + 5 * DAY_MS)
    await EventWriter(sessions).write(classified(old, recent), [feedback(old)])
    deleted = await delete_expired(sessions, retention_days=3, now_ms=EPOCH_MS + 6 * DAY_MS)
    assert deleted == 1
    page = await EventBrowser(sessions).page(tenant, WHOLE_WEEK, {}, 10, "")
    assert [events_pb2.CompletionEvent.FromString(e.payload).request_id for e in page.events] == [
        recent.request_id
    ]
    measures = await total(sessions, tenant)
    assert (measures.requests, measures.feedback_count) == (2, 1)
    assert await delete_expired(sessions, retention_days=0, now_ms=EPOCH_MS + 60 * DAY_MS) == 0


def test_a_query_reads_the_set_equal_to_its_group_by_and_filters() -> None:
    from tuneway.analytics.dimension_sets import DIMENSION_SETS, SET_IDS, set_for, value_column

    assert len(DIMENSION_SETS) == 1 + 9 + 36
    assert set_for([]) == SET_IDS[()]
    assert set_for(["assistant"]) == SET_IDS[("assistant",)]
    # Order does not matter: the set is kept in DIMENSIONS' order.
    pair = set_for(["assistant", "query_type"])
    assert pair == set_for(["query_type", "assistant"]) == SET_IDS[("query_type", "assistant")]
    assert pair is not None
    assert (value_column(pair, "query_type"), value_column(pair, "assistant")) == (
        "first_value",
        "second_value",
    )
    # Three dimensions, or kind/endpoint, have no set: the raw events answer.
    assert set_for(["assistant", "query_type", "language"]) is None
    assert set_for(["kind"]) is None
    assert set_for(["channel", "endpoint"]) is None


async def _mixed_traffic(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> list[ClassifiedCompletion]:
    """Four days of varied completions (errors, knowledge, human requests) with feedback on some."""
    rng = np.random.default_rng(11)
    classified_events = []
    for i in range(400):
        event = completion(
            tenant,
            int(EPOCH_MS + rng.integers(0, 4 * DAY_MS)),
            channel=str(rng.choice(["web", "app", "email"])),
            language=str(rng.choice(["en", "de"])),
            assistant=str(rng.choice(["support", "sales"])),
            latency_ms=float(rng.lognormal(6.0, 1.0)),
            time_to_first_token_ms=float(rng.lognormal(4.0, 0.8)) if i % 5 else 0.0,
            prompt_tokens=int(i % 13),
            status="error" if i % 9 == 0 else "ok",
            error_code="server_error" if i % 18 == 0 else "",
            knowledge_sources=i % 3,
            knowledge_no_answer=i % 11 == 0,
        )
        query_type = str(rng.choice(["orders", "billing", "asks for a human"]))
        classified_events.append(ClassifiedCompletion(event, query_type))
    judged = [
        feedback(c.event, rating=1 if i % 2 else -1)
        if i % 3
        else feedback(c.event, score=float(i % 5) + 1, scale="1-5", rating=0)
        for i, c in enumerate(classified_events[::7])
    ]
    writer = EventWriter(sessions)
    # Some feedback before its completion, the rest after.
    await writer.write([], judged[:10])
    for start in range(0, len(classified_events), 150):
        await writer.write(classified_events[start : start + 150], [])
    await writer.write([], judged[10:])
    return classified_events


async def test_three_dimensions_are_answered_from_the_raw_events(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    stored = await _mixed_traffic(sessions, tenant, completion, feedback)
    await EventWriter(sessions).write(classified(completion(f"{tenant}-other", channel="web")), [])
    keys = ("query_type", "channel", "language")
    summary = await SummaryReader(sessions).summary(Slice(tenant, WHOLE_WEEK, group_by=keys))
    expected: dict[tuple[str, ...], list[ClassifiedCompletion]] = {}
    for item in stored:
        group = (item.query_type, item.event.channel, item.event.language)
        expected.setdefault(group, []).append(item)
    got = {tuple(row.group[name] for name in keys): row.measures for row in summary.rows}
    assert set(got) == set(expected)
    for group, items in expected.items():
        measures = got[group]
        assert measures.requests == len(items)
        assert measures.errors == sum(c.event.status == "error" for c in items)
        assert measures.prompt_tokens == sum(c.event.prompt_tokens for c in items)
        assert measures.human_request_count == sum(c.query_type == "asks for a human" for c in items)
        exact = float(np.percentile([c.event.latency_ms for c in items], 50))
        assert len(items) < 3 or within_bucket(measures.latency_p50_ms, exact)
    assert summary.total.requests == len(stored)  # the other tenant's event is not in it
    assert summary.total.feedback_count == len(range(0, len(stored), 7))
    assert summary.total.errors_by_code == {
        "server_error": sum(c.event.error_code == "server_error" for c in stored),
        "unknown": sum(c.event.status == "error" and not c.event.error_code for c in stored),
    }


async def test_set_rollups_and_raw_events_give_the_same_numbers(
    sessions: Sessions, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    await _mixed_traffic(sessions, tenant, completion, feedback)
    reader = SummaryReader(sessions)
    # Every event is kind "assistant": filtering on kind changes nothing but forces the raw events.
    window = Window(EPOCH_MS + 5 * HOUR_MS + 17, EPOCH_MS + 3 * DAY_MS + 9 * HOUR_MS)
    for group_by, filters in (((), {}), (("channel",), {"language": "de"}), (("assistant", "channel"), {})):
        from_rollups = await reader.summary(Slice(tenant, window, group_by=group_by, filters=filters))
        from_events = await reader.summary(
            Slice(tenant, window, group_by=group_by, filters={**filters, "kind": "assistant"})
        )
        assert from_rollups == from_events
        assert from_rollups.total.requests > 0 and from_rollups.total.feedback_count > 0
        series = await reader.timeseries(Slice(tenant, window, group_by=group_by, filters=filters), "day")
        raw_series = await reader.timeseries(
            Slice(tenant, window, group_by=group_by, filters={**filters, "kind": "assistant"}), "day"
        )
        assert series == raw_series
