"""Queries of a job's complete checkpoints, and checkpoint rows as values."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.trainer import domain as d
from tuneway.trainer.models import CheckpointRow, JobRow


def checkpoint_of(row: CheckpointRow, job: JobRow) -> d.Checkpoint:
    """The domain value of a checkpoint row (its model name derives from the job's)."""
    model = d.fine_tuned_model(job.model, job.tenant_id, job.suffix, job.id) + f":ckpt-step-{row.step}"
    return d.Checkpoint(row.id, row.job_id, row.created_at, row.step, row.metrics, model, row.artifact_uri)


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
