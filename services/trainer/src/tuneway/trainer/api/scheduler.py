"""The schedule firing loop of the API replicas: each due fire time is claimed by one and makes one job."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import DomainError, InvalidArgumentError
from tuneway.trainer import domain as d
from tuneway.trainer.api.job_pipeline import JobPipeline
from tuneway.trainer.api.jobs import JobService
from tuneway.trainer.api.schedules import next_fire
from tuneway.trainer.metrics import SCHEDULE_FIRINGS
from tuneway.trainer.repository import datasets as dataset_repo
from tuneway.trainer.repository import schedules as schedule_repo

log = logging.getLogger(__name__)


class Scheduler:
    """Fires due schedules; every API replica may tick, the database decides which one fires."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], jobs: JobService, pipeline: JobPipeline
    ) -> None:
        self._sessions = sessions
        self._jobs = jobs
        self._pipeline = pipeline

    async def run(self, tick_seconds: float, stop: asyncio.Event) -> None:
        """Ticks until `stop` is set; a failed tick is logged and retried at the next one."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            try:
                await asyncio.wait_for(stop.wait(), tick_seconds)
            except TimeoutError:
                pass

    async def tick(self, now: float | None = None) -> list[str]:
        """Fires every schedule due at `now`; returns the ids of the jobs this replica created."""
        now = time.time() if now is None else now
        async with self._sessions() as s:
            due = await schedule_repo.due_schedules(s, now)
        fired = []
        for row in due:
            job_id = await self._fire(schedule_repo.schedule_of(row), now)
            if job_id:
                fired.append(job_id)
        return fired

    async def _fire(self, schedule: d.Schedule, now: float) -> str:
        """Claims one firing (the replica whose update moves next_run_at wins) and creates its job."""
        fire_at = schedule.next_run_at
        job_id = d.scheduled_job_id(schedule.id, fire_at)
        try:
            async with self._sessions() as s, s.begin():
                next_run_at = next_fire(schedule.cron, max(now, fire_at))
                if not await schedule_repo.claim_firing(s, schedule.id, fire_at, next_run_at):
                    return ""  # another replica fired it
                file_id = await self._training_file(s, schedule)
                spec = d.JobSpec(
                    tenant_id=schedule.tenant_id,
                    training_file=file_id,
                    model=schedule.model,
                    suffix=schedule.suffix,
                    hyperparameters=schedule.hyperparameters,
                    lora=schedule.lora,
                    cleaning=schedule.cleaning,
                )
                # The job row commits with the claim: a crash in between cannot lose or double the firing.
                await self._jobs.insert(
                    spec, job_id=job_id, schedule_id=schedule.id, scheduled_for=fire_at, session=s
                )
                await schedule_repo.record_last_job(s, schedule.id, job_id)
        except IntegrityError:
            return ""  # the job of this firing exists already
        except DomainError as error:
            log.warning("schedule %s skipped its %d firing: %s", schedule.id, fire_at, error.message)
            await self._skip(schedule.id, fire_at, now, schedule.cron)
            return ""
        SCHEDULE_FIRINGS.inc()
        self._pipeline.drive(job_id)
        log.info("schedule fired", extra={"schedule": schedule.id, "job": job_id, "fire_at": fire_at})
        return job_id

    async def _skip(self, schedule_id: str, fire_at: int, now: float, cron: str) -> None:
        async with self._sessions() as s, s.begin():
            await schedule_repo.claim_firing(s, schedule_id, fire_at, next_fire(cron, max(now, fire_at)))

    async def _training_file(self, s: AsyncSession, schedule: d.Schedule) -> str:
        if schedule.training_file:
            return schedule.training_file
        row = await dataset_repo.newest_dataset_named(s, schedule.tenant_id, schedule.training_filename)
        if row is None:
            raise InvalidArgumentError(
                f"no file named {schedule.training_filename!r}", param="training_filename"
            )
        return row.file_id
