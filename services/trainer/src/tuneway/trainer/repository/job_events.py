"""Queries of a job's events, the log clients page through and watch, and event rows as values."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.trainer import domain as d
from tuneway.trainer.models import EventRow, JobRow


def event_of(row: EventRow) -> d.JobEvent:
    """The domain value of an event row."""
    return d.JobEvent(row.id, row.job_id, row.seq, row.created_at, row.level, row.type, row.message, row.data)


async def add_event(
    session: AsyncSession,
    job: JobRow,
    message: str,
    *,
    level: str = "info",
    type: str = "message",
    data: dict[str, Any] | None = None,
) -> EventRow:
    """Appends an event to a job (flushed, so its seq is known)."""
    row = EventRow(
        id=d.new_id("ftevent"),
        tenant_id=job.tenant_id,
        job_id=job.id,
        created_at=int(time.time()),
        level=level,
        type=type,
        message=message,
        data=data,
    )
    session.add(row)
    await session.flush()
    return row


async def list_events(session: AsyncSession, job: JobRow, after: str, limit: int) -> list[EventRow]:
    """Up to `limit` events newest first, after the event `after` (exclusive) if given."""
    query = select(EventRow).where(EventRow.job_id == job.id, EventRow.tenant_id == job.tenant_id)
    if after:
        cursor = (await session.execute(select(EventRow.seq).where(EventRow.id == after))).scalar()
        if cursor is not None:
            query = query.where(EventRow.seq < cursor)
    query = query.order_by(EventRow.seq.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def events_since(session: AsyncSession, job: JobRow, after_seq: int) -> list[EventRow]:
    """A job's events with seq > after_seq, oldest first."""
    query = (
        select(EventRow)
        .where(EventRow.job_id == job.id, EventRow.tenant_id == job.tenant_id, EventRow.seq > after_seq)
        .order_by(EventRow.seq)
    )
    return list((await session.execute(query)).scalars())
