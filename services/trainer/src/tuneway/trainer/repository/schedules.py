"""Queries of retraining schedules (by tenant, but for the firing loop's and lookups whose caller checks
the tenant), and schedule rows as values."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.trainer import domain as d
from tuneway.trainer.models import ScheduleRow
from tuneway.trainer.repository.columns import from_columns, training_settings_from


def schedule_of(row: ScheduleRow) -> d.Schedule:
    """The domain value of a schedule row."""
    return from_columns(d.Schedule, row, **training_settings_from(row))


async def get_schedule(session: AsyncSession, schedule_id: str) -> ScheduleRow | None:
    """A schedule by id, whichever tenant's (the caller checks)."""
    return await session.get(ScheduleRow, schedule_id)


async def list_schedules(session: AsyncSession, tenant_id: str) -> list[ScheduleRow]:
    """The tenant's schedules, oldest first."""
    query = (
        select(ScheduleRow)
        .where(ScheduleRow.tenant_id == tenant_id)
        .order_by(ScheduleRow.created_at, ScheduleRow.id)
    )
    return list((await session.execute(query)).scalars())


async def due_schedules(session: AsyncSession, now: float) -> list[ScheduleRow]:
    """Every tenant's active schedules whose fire time has come."""
    query = select(ScheduleRow).where(
        ScheduleRow.status == d.ACTIVE, ScheduleRow.next_run_at > 0, ScheduleRow.next_run_at <= now
    )
    return list((await session.execute(query)).scalars())


async def claim_firing(session: AsyncSession, schedule_id: str, fire_at: int, next_run_at: int) -> bool:
    """Moves the schedule from `fire_at` on to `next_run_at`; False when another replica did first."""
    query = (
        update(ScheduleRow)
        .where(ScheduleRow.id == schedule_id, ScheduleRow.next_run_at == fire_at)
        .values(next_run_at=next_run_at, last_run_at=fire_at)
    )
    return bool(getattr(await session.execute(query), "rowcount", 0))


async def record_last_job(session: AsyncSession, schedule_id: str, job_id: str) -> None:
    """Remembers the job the schedule's latest firing created."""
    await session.execute(update(ScheduleRow).where(ScheduleRow.id == schedule_id).values(last_job_id=job_id))
