"""The background half of a new job: validate its files, record the resolved run, queue it for a worker
(the dispatcher publishes it to the TRAINING stream)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.trainer import domain as d
from tuneway.trainer.dataset_preparation import failure_message, prepare, report_dict
from tuneway.trainer.foundation_model import FoundationModel
from tuneway.trainer.hyperparams import Resolved, resolve
from tuneway.trainer.models import JobRow
from tuneway.trainer.repository import columns
from tuneway.trainer.repository import datasets as dataset_repo
from tuneway.trainer.repository import job_events as event_repo
from tuneway.trainer.repository import jobs as job_repo

log = logging.getLogger(__name__)


class JobPipeline:
    """Takes jobs in validating_files to queued (or failed), each on a task of its own."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        base: FoundationModel,
        queued: Callable[[], None],
        max_seq_length: int,
    ) -> None:
        self._sessions = sessions
        self._base = base
        self._queued = queued
        self._max_seq_length = max_seq_length
        self._tasks: set[asyncio.Task[None]] = set()

    def drive(self, job_id: str) -> None:
        """Validates and queues the job in the background."""
        task = asyncio.create_task(self._validate_and_queue(job_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Waits for every background validation (tests; graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancels background validations (a restart re-drives jobs left in validating_files)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def recover(self) -> int:
        """Re-drives jobs a stopped replica left in validating_files (queueing is idempotent per job)."""
        async with self._sessions() as s:
            rows = await job_repo.jobs_in_status(s, d.VALIDATING)
        for row in rows:
            self.drive(row.id)
        return len(rows)

    async def _validate_and_queue(self, job_id: str) -> None:
        try:
            await self._validate(job_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("job %s: validation failed unexpectedly", job_id)
            await self._fail(job_id, d.JobError("server_error", f"Validation failed: {error}", ""))

    async def _validate(self, job_id: str) -> None:
        async with self._sessions() as s:
            row = await s.get(JobRow, job_id)
            if row is None or row.status != d.VALIDATING:
                return
            training = await dataset_repo.get_dataset(s, row.tenant_id, row.training_file)
            validation = (
                await dataset_repo.get_dataset(s, row.tenant_id, row.validation_file)
                if row.validation_file
                else None
            )
        cleaning = columns.cleaning_from(row.cleaning)
        max_len = self._max_seq_length
        if training is None:
            await self._fail(job_id, _file_gone("training_file", row.training_file))
            return
        prepared = await prepare(
            self._base, dataset_repo.dataset_of(training), cleaning, max_len, row.seed, split=not validation
        )
        if not prepared.report.ok:
            report = report_dict(prepared, self._base.name, max_len)
            message = failure_message(report, training.filename)
            await self._fail(job_id, d.JobError("invalid_training_file", message, "training_file"), report)
            return
        valid_examples = len(prepared.validation)
        if row.validation_file:
            if validation is None:
                await self._fail(job_id, _file_gone("validation_file", row.validation_file))
                return
            checked = await prepare(
                self._base,
                dataset_repo.dataset_of(validation),
                cleaning,
                max_len,
                row.seed,
                split=False,
                validation_file=True,
            )
            if not checked.report.ok:
                message = failure_message(report_dict(checked, self._base.name, max_len), validation.filename)
                await self._fail(job_id, d.JobError("invalid_validation_file", message, "validation_file"))
                return
            valid_examples = len(checked.train)
        resolved = resolve(columns.hyperparameters_from(row.hyperparameters), len(prepared.train))
        report = report_dict(prepared, self._base.name, max_len, resolved.total_steps)
        report["validation_examples"] = valid_examples
        await self._queue(row, report, resolved, training.sha256)

    async def _queue(
        self, row: JobRow, report: dict[str, Any], resolved: Resolved, dataset_sha256: str
    ) -> None:
        # Queued in the database with its results, in one transaction; publishing is the dispatcher's,
        # which retries while NATS is down and after a restart, so an accepted job is never lost to it.
        async with self._sessions() as s, s.begin():
            recorded = await job_repo.move_job(
                s,
                row.id,
                (d.VALIDATING,),
                status=d.QUEUED,
                report=report,
                hyperparameters=columns.hyperparameters_json(resolved.public()),
                total_steps=resolved.total_steps,
                dataset_sha256=dataset_sha256,
            )
            if not recorded:
                return  # cancelled meanwhile
            fresh = await s.get(JobRow, row.id)
            assert fresh is not None
            await event_repo.add_event(
                s,
                fresh,
                f"Files validated: {report.get('train_examples', 0)} training examples, "
                f"{resolved.total_steps} steps ({resolved.n_epochs} epochs of batch size "
                f"{resolved.batch_size}). Fine-tuning job queued.",
            )
        self._queued()

    async def _fail(self, job_id: str, error: d.JobError, report: dict[str, object] | None = None) -> None:
        async with self._sessions() as s, s.begin():
            with_report = {} if report is None else {"report": report}
            if await job_repo.fail_job(s, job_id, (d.VALIDATING, d.QUEUED), error, **with_report):
                row = await s.get(JobRow, job_id)
                assert row is not None
                await event_repo.add_event(s, row, error.message, level="error")


def _file_gone(param: str, file_id: str) -> d.JobError:
    code = "invalid_training_file" if param == "training_file" else "invalid_validation_file"
    return d.JobError(code, f"The file {file_id} was deleted before the job started.", param)
