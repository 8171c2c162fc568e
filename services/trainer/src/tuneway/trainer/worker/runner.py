"""One worker attempt at a job: prepare its data, resume or start training, and say how it ended."""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.trainer import domain as d
from tuneway.trainer.dataset_preparation import failure_message, prepare, report_dict
from tuneway.trainer.foundation_model import FoundationModel
from tuneway.trainer.hyperparams import checkpoint_every, resolve
from tuneway.trainer.metrics import JOBS
from tuneway.trainer.models import JobRow
from tuneway.trainer.repository import columns
from tuneway.trainer.repository import datasets as dataset_repo
from tuneway.trainer.repository import job_events as event_repo
from tuneway.trainer.repository import jobs as job_repo
from tuneway.trainer.worker import training
from tuneway.trainer.worker.out_of_space import out_of_space, out_of_space_message
from tuneway.trainer.worker.progress import JobProgress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunnerConfig:
    """Where artifacts go and how training runs."""

    artifacts: Path
    max_seq_length: int = 1024
    checkpoint_steps: int = 0
    torch_threads: int = 0
    gradient_checkpointing: str = "auto"


@dataclass
class RunOutcome:
    """trained (adapter saved), failed, cancelled or handback (stopped to be resumed elsewhere)."""

    kind: str
    step: int = 0
    adapter: Path | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    trained_tokens: int = 0


class JobRunner:
    """Turns a claimed job into a training run; any exception fails the job at once (no retry loop)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], base: FoundationModel, config: RunnerConfig
    ) -> None:
        self._sessions = sessions
        self._base = base
        self._config = config

    async def run(self, job_id: str, progress: JobProgress) -> RunOutcome:
        """Prepares and trains; returns how the attempt ended."""
        try:
            return await self._run(job_id, progress)
        except Exception as error:
            log.exception("job %s: training failed", job_id)
            if out_of_space(error, self._config.artifacts):
                # The job cannot be resumed once failed: its checkpoints give their space back.
                await asyncio.to_thread(self._remove_checkpoints, job_id)
                await self.fail(job_id, d.JobError("artifact_store_full", out_of_space_message(error)[:2000]))
                return RunOutcome("failed")
            message = f"Training failed: {type(error).__name__}: {error}"
            await self.fail(job_id, d.JobError("training_failed", message[:2000]))
            return RunOutcome("failed")

    def _remove_checkpoints(self, job_id: str) -> None:
        for job_dir in (self._config.artifacts / "checkpoints").glob(f"*/{job_id}"):
            shutil.rmtree(job_dir, ignore_errors=True)

    async def _run(self, job_id: str, progress: JobProgress) -> RunOutcome:
        async with self._sessions() as s:
            job = await s.get(JobRow, job_id)
            assert job is not None
            dataset = await dataset_repo.get_dataset(s, job.tenant_id, job.training_file)
            valid_dataset = (
                await dataset_repo.get_dataset(s, job.tenant_id, job.validation_file)
                if job.validation_file
                else None
            )
        if dataset is None or (job.validation_file and valid_dataset is None):
            param = "training_file" if dataset is None else "validation_file"
            await self.fail(
                job_id, d.JobError(f"invalid_{param}", f"The {param} was deleted before training.", param)
            )
            return RunOutcome("failed")
        cleaning = columns.cleaning_from(job.cleaning)
        max_len = self._config.max_seq_length
        prepared = await prepare(
            self._base, dataset_repo.dataset_of(dataset), cleaning, max_len, job.seed, split=not valid_dataset
        )
        if not prepared.report.ok:
            report = report_dict(prepared, self._base.name, max_len)
            message = failure_message(report, dataset.filename)
            await self.fail(job_id, d.JobError("invalid_training_file", message, "training_file"))
            return RunOutcome("failed")
        validation = prepared.validation
        if valid_dataset is not None:
            validation = (
                await prepare(
                    self._base,
                    dataset_repo.dataset_of(valid_dataset),
                    cleaning,
                    max_len,
                    job.seed,
                    split=False,
                    validation_file=True,
                )
            ).train
        hyper = resolve(columns.hyperparameters_from(job.hyperparameters), len(prepared.train))
        root = self._config.artifacts
        checkpoints = root / "checkpoints" / job.tenant_id / job.id
        latest = training.latest_checkpoint(checkpoints)
        plan = training.Plan(
            base_model=self._base.path,
            checkpoints_dir=checkpoints,
            adapter_dir=root / "adapters" / job.tenant_id / job.id,
            train=prepared.train,
            validation=validation,
            hyper=hyper,
            lora=columns.lora_from(job.lora),
            seed=job.seed,
            checkpoint_every=checkpoint_every(hyper.total_steps, self._config.checkpoint_steps),
            max_seq_length=max_len,
            resume_from=latest[1] if latest else None,
            torch_threads=self._config.torch_threads,
            gradient_checkpointing=self._config.gradient_checkpointing,
        )
        await self._event(
            job_id,
            f"Resumed from checkpoint at step {latest[0]}."
            if latest
            else f"Training started: {hyper.total_steps} steps.",
            {"step": latest[0]} if latest else {"total_steps": hyper.total_steps},
        )
        progress.count_tokens(
            latest[0] if latest else 0, training.trained_tokens(plan) / max(1, hyper.total_steps)
        )
        outcome = await asyncio.to_thread(training.run, plan, progress)
        if outcome.stopped == "handback":
            return RunOutcome("handback", step=outcome.step)
        if outcome.stopped:
            await self._event(
                job_id, f"Training stopped at step {outcome.step}: the job was {outcome.stopped}."
            )
            return RunOutcome("cancelled", step=outcome.step)
        # Marks the end of training (the last step may fall between logged steps) before registration.
        await self._event(
            job_id,
            f"Training finished at step {outcome.step}; registering the adapter.",
            {
                "step": outcome.step,
                "total_steps": hyper.total_steps,
                "last_step_at": round(outcome.last_step_at, 3),
            },
        )
        return RunOutcome(
            "trained",
            step=outcome.step,
            adapter=plan.adapter_dir,
            metrics=outcome.metrics,
            trained_tokens=training.trained_tokens(plan),
        )

    async def fail(self, job_id: str, error: d.JobError) -> None:
        """Marks a running job failed with `error` (a cancelled job stays cancelled)."""
        async with self._sessions() as s, s.begin():
            if await job_repo.fail_job(s, job_id, (d.RUNNING,), error):
                job = await s.get(JobRow, job_id)
                assert job is not None
                await event_repo.add_event(s, job, error.message, level="error")
                JOBS.labels(d.FAILED).inc()

    async def _event(self, job_id: str, message: str, data: dict[str, float] | None = None) -> None:
        async with self._sessions() as s, s.begin():
            job = await s.get(JobRow, job_id)
            if job is not None:
                await event_repo.add_event(s, job, message, data=dict(data) if data else None)
