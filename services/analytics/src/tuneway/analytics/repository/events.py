"""Raw completion events: insert ignoring duplicates, drill-down pages, experiment reads, retention."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, case, delete, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.analytics.domain import DIMENSIONS
from tuneway.analytics.models import events, feedback
from tuneway.analytics.repository.bulk import by_keys, copy_to_scratch, executemany, is_postgresql, quoted

# What a feedback needs of its completion to find its rollup rows.
EventKey = tuple[str, str]  # (tenant_id, request_id)


# The order of an inserted event row: every column of the table.
EVENT_COLUMNS: tuple[str, ...] = tuple(column.name for column in events.columns)
_KEY = ("tenant_id", "request_id")


async def insert_new(session: AsyncSession, rows: Sequence[Sequence[Any]]) -> set[EventKey]:
    """Inserts the rows (EVENT_COLUMNS' order, one per key) whose (tenant, request id) is new; returns
    those keys (duplicates are skipped)."""
    if not rows:
        return set()
    if is_postgresql(session):
        connection, scratch = await copy_to_scratch(session, "events", EVENT_COLUMNS, rows)
        inserted = await connection.fetch(
            f'INSERT INTO "events" ({quoted(EVENT_COLUMNS)}) SELECT {quoted(EVENT_COLUMNS)} FROM "{scratch}"'
            f" ORDER BY {quoted(_KEY)} ON CONFLICT ({quoted(_KEY)}) DO NOTHING RETURNING {quoted(_KEY)}"
        )
        return {(row[0], row[1]) for row in inserted}
    # SQLite has one writer at a time: what this transaction does not find stored yet, it inserts. A plain
    # INSERT (not OR IGNORE): should another writer have won the race, the batch fails and is retried.
    keys = [(row[0], row[1]) for row in rows]
    result = await session.execute(
        by_keys(session, events, [events.c.tenant_id, events.c.request_id], "request_id", keys)
    )
    stored: set[EventKey] = {(tenant_id, request_id) for tenant_id, request_id in result.all()}
    new = sorted((row for row in rows if (row[0], row[1]) not in stored), key=lambda row: (row[0], row[1]))
    if new:
        placeholders = ", ".join("?" for _ in EVENT_COLUMNS)
        await executemany(
            session, f'INSERT INTO "events" ({quoted(EVENT_COLUMNS)}) VALUES ({placeholders})', new
        )
    return {(row[0], row[1]) for row in new}


async def dimensions_of(
    session: AsyncSession, keys: Iterable[EventKey]
) -> dict[EventKey, tuple[int, tuple[str, ...]]]:
    """(tenant, request id) -> (created_at_ms, dimension values) of the stored events among `keys` (any
    tenants, one query)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    columns = [
        events.c.tenant_id,
        events.c.request_id,
        events.c.created_at_ms,
        *(events.c[name] for name in DIMENSIONS),
    ]
    result = await session.execute(by_keys(session, events, columns, "request_id", wanted))
    return {(row[0], row[1]): (row[2], tuple(row[3:])) for row in result.all()}


async def page(
    session: AsyncSession,
    tenant_id: str,
    from_ms: int,
    to_ms: int,
    filters: dict[str, str],
    limit: int,
    after: tuple[int, str] | None,
) -> list[Any]:
    """Up to `limit` events newest first, strictly after the keyset position `after` (created, id)."""
    conditions = [
        events.c.tenant_id == tenant_id,
        events.c.created_at_ms >= from_ms,
        events.c.created_at_ms < to_ms,
        *(events.c[name] == value for name, value in filters.items()),
    ]
    if after is not None:
        created, request_id = after
        conditions.append(
            or_(
                events.c.created_at_ms < created,
                and_(events.c.created_at_ms == created, events.c.request_id < request_id),
            )
        )
    statement = (
        select(
            events.c.request_id,
            events.c.created_at_ms,
            events.c.query_type,
            events.c.payload,
            events.c.message_text,
        )
        .where(*conditions)
        .order_by(events.c.created_at_ms.desc(), events.c.request_id.desc())
        .limit(limit)
    )
    return list((await session.execute(statement)).all())


async def experiment_arms(session: AsyncSession, tenant_id: str, experiment_id: str) -> list[Any]:
    """Per arm column value ("<experiment>:<arm>"): exposures, requests, errors and tokens."""
    # Prefixes keep a user and a conversation of the same name apart.
    identity = case(
        (events.c.user != "", literal("u:") + events.c.user),
        (events.c.conversation_id != "", literal("c:") + events.c.conversation_id),
        else_=literal("r:") + events.c.request_id,
    )
    statement = (
        select(
            events.c.experiment_arm,
            func.count(func.distinct(identity)),
            func.count(),
            func.sum(case((events.c.status == "error", 1), else_=0)),
            func.sum(events.c.prompt_tokens),
            func.sum(events.c.completion_tokens),
        )
        .where(events.c.tenant_id == tenant_id, events.c.experiment_id == experiment_id)
        .group_by(events.c.experiment_arm)
    )
    return list((await session.execute(statement)).all())


async def experiment_latencies(session: AsyncSession, tenant_id: str, experiment_id: str) -> list[Any]:
    """(arm column value, latency_ms) of every event of the experiment."""
    statement = select(events.c.experiment_arm, events.c.latency_ms).where(
        events.c.tenant_id == tenant_id, events.c.experiment_id == experiment_id
    )
    return list((await session.execute(statement)).all())


async def delete_older_than(session: AsyncSession, cutoff_ms: int) -> int:
    """Deletes every tenant's raw events created before `cutoff_ms`; returns how many."""
    result = await session.execute(delete(events).where(events.c.created_at_ms < cutoff_ms))
    return int(getattr(result, "rowcount", 0) or 0)


async def experiment_feedback(session: AsyncSession, tenant_id: str, experiment_id: str) -> list[Any]:
    """(arm column value, rating, score, scale) of the feedback on the experiment's completions."""
    statement = (
        select(events.c.experiment_arm, feedback.c.rating, feedback.c.score, feedback.c.scale)
        .join(
            feedback,
            and_(feedback.c.tenant_id == events.c.tenant_id, feedback.c.completion_id == events.c.request_id),
        )
        .where(events.c.tenant_id == tenant_id, events.c.experiment_id == experiment_id)
    )
    return list((await session.execute(statement)).all())


async def feedback_of(session: AsyncSession, tenant_id: str, request_ids: list[str]) -> list[Any]:
    """The stored feedback rows of the tenant's completions `request_ids`, oldest first."""
    if not request_ids:
        return []
    statement = (
        select(feedback)
        .where(feedback.c.tenant_id == tenant_id, feedback.c.completion_id.in_(request_ids))
        .order_by(feedback.c.created_at_ms)
    )
    return list((await session.execute(statement)).all())
