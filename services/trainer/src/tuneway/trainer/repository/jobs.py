"""Queries of fine-tuning jobs (by tenant, but for the worker and start-up), and job rows as values."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.trainer import domain as d
from tuneway.trainer.models import JobRow
from tuneway.trainer.repository.columns import from_columns, training_settings_from


def job_of(row: JobRow) -> d.Job:
    """The domain value of a job row."""
    error = d.JobError(row.error_code, row.error_message, row.error_param) if row.error_code else None
    return from_columns(
        d.Job,
        row,
        **training_settings_from(row),
        error=error,
        result_files=tuple(row.result_files or ()),
    )


async def get_job(session: AsyncSession, tenant_id: str, job_id: str) -> JobRow | None:
    """One of the tenant's jobs."""
    row = await session.get(JobRow, job_id)
    return row if row is not None and row.tenant_id == tenant_id else None


async def list_jobs(session: AsyncSession, tenant_id: str, after: str, limit: int) -> list[JobRow]:
    """Up to `limit` jobs newest first, after the job `after` (exclusive) if given."""
    query = select(JobRow).where(JobRow.tenant_id == tenant_id)
    if after:
        cursor = await get_job(session, tenant_id, after)
        if cursor is not None:
            query = query.where(
                (JobRow.sort_key < cursor.sort_key)
                | ((JobRow.sort_key == cursor.sort_key) & (JobRow.id < cursor.id))
            )
    query = query.order_by(JobRow.sort_key.desc(), JobRow.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def jobs_in_status(session: AsyncSession, status: str) -> list[JobRow]:
    """Every tenant's jobs in one status (start-up recovery)."""
    return list((await session.execute(select(JobRow).where(JobRow.status == status))).scalars())


async def undispatched_jobs(session: AsyncSession, limit: int) -> list[JobRow]:
    """Every tenant's queued jobs whose work request is not in the TRAINING stream yet, oldest first."""
    query = (
        select(JobRow)
        .where(JobRow.status == d.QUEUED, JobRow.dispatched_at == 0)
        .order_by(JobRow.sort_key, JobRow.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def mark_dispatched(session: AsyncSession, job_id: str, at: int) -> None:
    """Records that the job's request is in the TRAINING stream (whatever its status is by now)."""
    await session.execute(update(JobRow).where(JobRow.id == job_id).values(dispatched_at=at))


async def move_job(session: AsyncSession, job_id: str, from_statuses: tuple[str, ...], **values: Any) -> bool:
    """Sets `values` on the job if its status is one of `from_statuses`; False when it was not."""
    query = update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(from_statuses)).values(**values)
    result = await session.execute(query)
    return bool(getattr(result, "rowcount", 0))


async def fail_job(
    session: AsyncSession, job_id: str, from_statuses: tuple[str, ...], error: d.JobError, **values: Any
) -> bool:
    """Fails the job with `error` (and `values`) if its status is one of `from_statuses`."""
    return await move_job(
        session,
        job_id,
        from_statuses,
        status=d.FAILED,
        error_code=error.code,
        error_message=error.message,
        error_param=error.param,
        finished_at=int(time.time()),
        **values,
    )


async def count_jobs_by_status(session: AsyncSession, statuses: tuple[str, ...]) -> dict[str, int]:
    """How many jobs of every tenant are in each of `statuses` (an operator's total for the metrics;
    nothing of any tenant's jobs leaves it but the count)."""
    query = select(JobRow.status, func.count()).where(JobRow.status.in_(statuses)).group_by(JobRow.status)
    counts = {status: 0 for status in statuses}
    for status, count in (await session.execute(query)).all():
        counts[status] = int(count)
    return counts
