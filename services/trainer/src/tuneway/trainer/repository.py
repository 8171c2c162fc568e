"""Queries of datasets, jobs, events and checkpoints (every one filtered by tenant) and row -> domain."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.trainer import domain as d
from tuneway.trainer.models import CheckpointRow, DatasetRow, EventRow, JobRow


def hyperparameters_from(data: dict[str, Any]) -> d.Hyperparameters:
    """Hyperparameters from their JSON column."""
    return d.Hyperparameters(
        n_epochs=data.get("n_epochs"),
        batch_size=data.get("batch_size"),
        learning_rate_multiplier=data.get("learning_rate_multiplier"),
    )


def lora_from(data: dict[str, Any]) -> d.LoraSpec:
    """A LoRA spec from its JSON column."""
    return d.LoraSpec(
        rank=data.get("rank"),
        alpha=data.get("alpha"),
        target_modules=tuple(data.get("target_modules") or ()),
        dropout=data.get("dropout"),
    )


def cleaning_from(data: dict[str, Any]) -> d.Cleaning:
    """Cleaning options from their JSON column."""
    return d.Cleaning(scrub_pii=bool(data.get("scrub_pii")), validation_split=data.get("validation_split"))


def dataset_of(row: DatasetRow) -> d.Dataset:
    """The domain value of a dataset row."""
    return d.Dataset(row.file_id, row.tenant_id, row.filename, row.uri, row.sha256, row.bytes, row.created_at)


def job_of(row: JobRow) -> d.Job:
    """The domain value of a job row."""
    error = d.JobError(row.error_code, row.error_message, row.error_param) if row.error_code else None
    return d.Job(
        id=row.id,
        tenant_id=row.tenant_id,
        model=row.model,
        status=row.status,
        training_file=row.training_file,
        validation_file=row.validation_file,
        suffix=row.suffix,
        seed=row.seed,
        method=row.method,
        hyperparameters=hyperparameters_from(row.hyperparameters),
        lora=lora_from(row.lora),
        cleaning=cleaning_from(row.cleaning),
        created_at=row.created_at,
        finished_at=row.finished_at,
        fine_tuned_model=row.fine_tuned_model,
        trained_tokens=row.trained_tokens,
        estimated_finish=row.estimated_finish,
        error=error,
        report=row.report,
        result_files=tuple(row.result_files or ()),
        schedule_id=row.schedule_id,
        attempts=row.attempts,
    )


def event_of(row: EventRow) -> d.JobEvent:
    """The domain value of an event row."""
    return d.JobEvent(row.id, row.job_id, row.seq, row.created_at, row.level, row.type, row.message, row.data)


def checkpoint_of(row: CheckpointRow, job: JobRow) -> d.Checkpoint:
    """The domain value of a checkpoint row (its model name derives from the job's)."""
    model = d.fine_tuned_model(job.model, job.tenant_id, job.suffix, job.id) + f":ckpt-step-{row.step}"
    return d.Checkpoint(row.id, row.job_id, row.created_at, row.step, row.metrics, model, row.artifact_uri)


# ---------------------------------------------------------------- datasets


async def get_dataset(session: AsyncSession, tenant_id: str, file_id: str) -> DatasetRow | None:
    """One of the tenant's datasets."""
    return await session.get(DatasetRow, (tenant_id, file_id))


async def newest_dataset_named(session: AsyncSession, tenant_id: str, filename: str) -> DatasetRow | None:
    """The tenant's most recently registered dataset with this filename."""
    query = (
        select(DatasetRow)
        .where(DatasetRow.tenant_id == tenant_id, DatasetRow.filename == filename)
        .order_by(DatasetRow.created_at.desc(), DatasetRow.file_id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def delete_dataset(session: AsyncSession, tenant_id: str, file_id: str) -> int:
    """Forgets a dataset; returns how many rows went."""
    query = delete(DatasetRow).where(DatasetRow.tenant_id == tenant_id, DatasetRow.file_id == file_id)
    result = await session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------- jobs


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


async def move_job(session: AsyncSession, job_id: str, from_statuses: tuple[str, ...], **values: Any) -> bool:
    """Sets `values` on the job if its status is one of `from_statuses`; False when it was not."""
    query = update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(from_statuses)).values(**values)
    result = await session.execute(query)
    return bool(getattr(result, "rowcount", 0))


# ---------------------------------------------------------------- events


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


# ---------------------------------------------------------------- checkpoints


async def add_checkpoint(
    session: AsyncSession, job: JobRow, step: int, metrics: dict[str, float], uri: str
) -> CheckpointRow:
    """Records a complete checkpoint (idempotent per job and step)."""
    query = select(CheckpointRow).where(CheckpointRow.job_id == job.id, CheckpointRow.step == step)
    existing = (await session.execute(query)).scalar_one_or_none()
    if existing is not None:
        return existing
    row = CheckpointRow(
        id=d.new_id("ftckpt"),
        tenant_id=job.tenant_id,
        job_id=job.id,
        step=step,
        metrics=metrics,
        artifact_uri=uri,
        created_at=int(time.time()),
    )
    session.add(row)
    await session.flush()
    return row


async def list_checkpoints(session: AsyncSession, job: JobRow, after: str, limit: int) -> list[CheckpointRow]:
    """Up to `limit` checkpoints newest first (OpenAI's order), after `after` (exclusive) if given."""
    query = select(CheckpointRow).where(
        CheckpointRow.job_id == job.id, CheckpointRow.tenant_id == job.tenant_id
    )
    if after:
        cursor = (await session.execute(select(CheckpointRow.step).where(CheckpointRow.id == after))).scalar()
        if cursor is not None:
            query = query.where(CheckpointRow.step < cursor)
    query = query.order_by(CheckpointRow.step.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
