"""Fine-tuning jobs as the API serves them: create (job_pipeline.py validates and queues), read, cancel."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from tuneway.trainer import domain as d
from tuneway.trainer.api.job_pipeline import JobPipeline
from tuneway.trainer.foundation_model import FoundationModel
from tuneway.trainer.hyperparams import check_hyperparameters, resolve_lora
from tuneway.trainer.models import JobRow
from tuneway.trainer.repository import checkpoints as checkpoint_repo
from tuneway.trainer.repository import columns
from tuneway.trainer.repository import datasets as dataset_repo
from tuneway.trainer.repository import job_events as event_repo
from tuneway.trainer.repository import jobs as job_repo

Row = TypeVar("Row")
Value = TypeVar("Value")

# How often WatchJobEvents looks for new events of a job that has not ended.
WATCH_POLL_SECONDS = 0.25


def page_limit(limit: int) -> int:
    """OpenAI's page size rules: 0 means 20, at most 100."""
    if limit < 0 or limit > 100:
        raise InvalidArgumentError("limit must be between 1 and 100.", param="limit")
    return limit or 20


def _page(rows: list[Row], size: int, value_of: Callable[[Row], Value]) -> tuple[list[Value], bool]:
    """The first `size` rows as values, and whether more follow (the query fetched one row more)."""
    return [value_of(r) for r in rows[:size]], len(rows) > size


def job_not_found(job_id: str) -> NotFoundError:
    """The error for a job that does not exist or belongs to another tenant."""
    return NotFoundError(f"No fine-tuning job found with id {job_id!r}.", param="fine_tuning_job_id")


class JobService:
    """Jobs as the API sees them; validation and queueing happen in the pipeline, training in workers."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], base: FoundationModel, pipeline: JobPipeline
    ) -> None:
        self._sessions = sessions
        self._base = base
        self._pipeline = pipeline

    async def create(
        self, spec: d.JobSpec, *, job_id: str = "", schedule_id: str = "", scheduled_for: int = 0
    ) -> d.Job:
        """Records the job as validating_files; validation and queueing continue in the background."""
        row = await self.insert(spec, job_id=job_id, schedule_id=schedule_id, scheduled_for=scheduled_for)
        self._pipeline.drive(row.id)
        return job_repo.job_of(row)

    async def insert(
        self,
        spec: d.JobSpec,
        *,
        job_id: str = "",
        schedule_id: str = "",
        scheduled_for: int = 0,
        session: AsyncSession | None = None,
    ) -> JobRow:
        """Checks the request and inserts the job row (in `session` if given) without driving it."""
        tenant = d.check_tenant(spec.tenant_id)
        model = self._base.check(spec.model)
        d.check_suffix(spec.suffix)
        if spec.method not in ("", "supervised"):
            raise InvalidArgumentError("Only the supervised method is supported.", param="method")
        check_hyperparameters(spec.hyperparameters)
        lora = resolve_lora(spec.lora)
        split = spec.cleaning.validation_split
        if split is not None and not 0 <= split < 1:
            raise InvalidArgumentError(
                "validation_split must be in [0, 1).", param="cleaning.validation_split"
            )
        if not spec.training_file:
            raise InvalidArgumentError("training_file is required.", param="training_file")
        now = time.time()
        row = JobRow(
            id=job_id or d.new_id("ftjob"),
            tenant_id=tenant,
            sort_key=time.time_ns() // 1000,
            model=model,
            status=d.VALIDATING,
            training_file=spec.training_file,
            validation_file=spec.validation_file,
            suffix=spec.suffix,
            seed=spec.seed if spec.seed is not None else secrets.randbelow(2**31),
            method="supervised",
            **columns.training_settings_json(spec.hyperparameters, lora, spec.cleaning),
            report=None,
            result_files=[],
            schedule_id=schedule_id,
            scheduled_for=scheduled_for,
            created_at=int(now),
        )

        async def _insert(s: AsyncSession) -> None:
            for param, file_id in (
                ("training_file", spec.training_file),
                ("validation_file", row.validation_file),
            ):
                if file_id and await dataset_repo.get_dataset(s, tenant, file_id) is None:
                    raise InvalidArgumentError(
                        f"invalid {param}: {file_id}", param=param, code="file_not_found"
                    )
            s.add(row)
            await s.flush()
            await event_repo.add_event(s, row, f"Validating training file: {row.training_file}")

        if session is not None:
            await _insert(session)
        else:
            async with self._sessions() as s, s.begin():
                await _insert(s)
        return row

    async def get(self, tenant_id: str, job_id: str) -> d.Job:
        """One of the tenant's jobs."""
        async with self._sessions() as s:
            return job_repo.job_of(await self._row(s, tenant_id, job_id))

    async def list_jobs(self, tenant_id: str, after: str, limit: int) -> tuple[list[d.Job], bool]:
        """A page of the tenant's jobs, newest first, and whether more follow."""
        size = page_limit(limit)
        async with self._sessions() as s:
            rows = await job_repo.list_jobs(s, tenant_id, after, size + 1)
        return _page(rows, size, job_repo.job_of)

    async def cancel(self, tenant_id: str, job_id: str) -> d.Job:
        """Cancels a job that has not finished; a worker training it stops at its next step."""
        async with self._sessions() as s, s.begin():
            row = await self._row(s, tenant_id, job_id)
            if row.status in d.FINISHED:
                raise FailedPreconditionError(
                    f"Job {job_id} has already {row.status}; only unfinished jobs can be cancelled.",
                    param="fine_tuning_job_id",
                )
            active = (d.VALIDATING, d.QUEUED, d.RUNNING)
            if not await job_repo.move_job(
                s, job_id, active, status=d.CANCELLED, finished_at=int(time.time())
            ):
                raise FailedPreconditionError(f"Job {job_id} finished meanwhile.", param="fine_tuning_job_id")
            await s.refresh(row)
            await event_repo.add_event(s, row, "Fine-tuning job cancelled.")
            return job_repo.job_of(row)

    async def events(
        self, tenant_id: str, job_id: str, after: str, limit: int
    ) -> tuple[list[d.JobEvent], bool]:
        """A page of a job's events, newest first."""
        size = page_limit(limit)
        async with self._sessions() as s:
            row = await self._row(s, tenant_id, job_id)
            rows = await event_repo.list_events(s, row, after, size + 1)
        return _page(rows, size, event_repo.event_of)

    async def watch(self, tenant_id: str, job_id: str, after_seq: int) -> AsyncIterator[d.JobEvent]:
        """A job's events oldest first after `after_seq`, then new ones as they come, until it ends."""
        last = after_seq
        while True:
            async with self._sessions() as s:
                row = await self._row(s, tenant_id, job_id)
                # Status first: events committed with (or before) a final status are then all visible.
                finished = row.status in d.FINISHED
                rows = await event_repo.events_since(s, row, last)
            for event in rows:
                last = event.seq
                yield event_repo.event_of(event)
            if finished:
                return
            await asyncio.sleep(WATCH_POLL_SECONDS)

    async def checkpoints(
        self, tenant_id: str, job_id: str, after: str, limit: int
    ) -> tuple[list[d.Checkpoint], bool]:
        """A page of a job's checkpoints, newest first."""
        size = page_limit(limit)
        async with self._sessions() as s:
            row = await self._row(s, tenant_id, job_id)
            rows = await checkpoint_repo.list_checkpoints(s, row, after, size + 1)
        return _page(rows, size, lambda r: checkpoint_repo.checkpoint_of(r, row))

    async def _row(self, s: AsyncSession, tenant_id: str, job_id: str) -> JobRow:
        row = await job_repo.get_job(s, d.check_tenant(tenant_id), job_id)
        if row is None:
            raise job_not_found(job_id)
        return row
