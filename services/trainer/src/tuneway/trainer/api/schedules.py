"""Retraining schedules: cron in UTC, a fixed file or the newest file of a name; scheduler.py fires them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from croniter import croniter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import InvalidArgumentError, NotFoundError
from tuneway.trainer import domain as d
from tuneway.trainer.foundation_model import FoundationModel
from tuneway.trainer.hyperparams import check_hyperparameters, resolve_lora
from tuneway.trainer.models import ScheduleRow
from tuneway.trainer.repository import columns
from tuneway.trainer.repository import datasets as dataset_repo
from tuneway.trainer.repository import schedules as schedule_repo


def next_fire(cron: str, after: float) -> int:
    """The first fire time of `cron` (UTC) strictly after `after`, in Unix seconds."""
    return int(croniter(cron, datetime.fromtimestamp(after, UTC)).get_next(float))


class ScheduleService:
    """Create, read, pause, resume and delete a tenant's schedules."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], base: FoundationModel) -> None:
        self._sessions = sessions
        self._base = base

    async def create(self, schedule: d.Schedule) -> d.Schedule:
        """Checks and stores a schedule; it first fires at the cron's next time."""
        tenant = d.check_tenant(schedule.tenant_id)
        if not croniter.is_valid(schedule.cron) or len(schedule.cron.split()) != 5:
            raise InvalidArgumentError(
                f"{schedule.cron!r} is not a five-field cron expression.", param="cron"
            )
        if bool(schedule.training_file) == bool(schedule.training_filename):
            raise InvalidArgumentError(
                "Give exactly one of training_file and training_filename.", param="training_file"
            )
        model = self._base.check(schedule.model)
        d.check_suffix(schedule.suffix)
        check_hyperparameters(schedule.hyperparameters)
        lora = resolve_lora(schedule.lora)
        now = time.time()
        row = ScheduleRow(
            id=d.new_id("ftsched"),
            tenant_id=tenant,
            cron=schedule.cron,
            training_file=schedule.training_file,
            training_filename=schedule.training_filename,
            model=model,
            suffix=schedule.suffix,
            **columns.training_settings_json(schedule.hyperparameters, lora, schedule.cleaning),
            status=d.ACTIVE,
            created_at=int(now),
            next_run_at=next_fire(schedule.cron, now),
        )
        async with self._sessions() as s, s.begin():
            if (
                schedule.training_file
                and await dataset_repo.get_dataset(s, tenant, schedule.training_file) is None
            ):
                raise InvalidArgumentError(
                    f"invalid training_file: {schedule.training_file}",
                    param="training_file",
                    code="file_not_found",
                )
            s.add(row)
        return schedule_repo.schedule_of(row)

    async def get(self, tenant_id: str, schedule_id: str) -> d.Schedule:
        """One of the tenant's schedules."""
        async with self._sessions() as s:
            return schedule_repo.schedule_of(await self._row(s, tenant_id, schedule_id))

    async def list_schedules(self, tenant_id: str) -> list[d.Schedule]:
        """The tenant's schedules, oldest first."""
        tenant = d.check_tenant(tenant_id)
        async with self._sessions() as s:
            rows = await schedule_repo.list_schedules(s, tenant)
        return [schedule_repo.schedule_of(r) for r in rows]

    async def pause(self, tenant_id: str, schedule_id: str) -> d.Schedule:
        """Stops a schedule firing until it is resumed."""
        async with self._sessions() as s, s.begin():
            row = await self._row(s, tenant_id, schedule_id)
            row.status, row.next_run_at = d.PAUSED, 0
            return schedule_repo.schedule_of(row)

    async def resume(self, tenant_id: str, schedule_id: str) -> d.Schedule:
        """Lets a schedule fire again from its next time after now (missed times are skipped)."""
        async with self._sessions() as s, s.begin():
            row = await self._row(s, tenant_id, schedule_id)
            if row.status != d.ACTIVE:
                row.status, row.next_run_at = d.ACTIVE, next_fire(row.cron, time.time())
            return schedule_repo.schedule_of(row)

    async def delete(self, tenant_id: str, schedule_id: str) -> None:
        """Deletes a schedule (jobs it created stay)."""
        async with self._sessions() as s, s.begin():
            await s.delete(await self._row(s, tenant_id, schedule_id))

    async def _row(self, s: AsyncSession, tenant_id: str, schedule_id: str) -> ScheduleRow:
        row = await schedule_repo.get_schedule(s, schedule_id)
        if row is None or row.tenant_id != d.check_tenant(tenant_id):
            raise NotFoundError(f"No schedule found with id {schedule_id!r}.", param="schedule_id")
        return row
