"""Data access of batches and their lines' results over an AsyncSession; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.gateway.batches.tables import Batch, BatchLine


async def get_batch(session: AsyncSession, tenant_id: str, batch_id: str) -> Batch | None:
    """The tenant's batch with this id; another tenant's batch is None, like a missing one."""
    return await session.scalar(select(Batch).where(Batch.id == batch_id, Batch.tenant_id == tenant_id))


async def lock_batch(session: AsyncSession, batch_id: str) -> Batch | None:
    """The batch, locked for the rest of the transaction where the database can (PostgreSQL)."""
    return await session.scalar(select(Batch).where(Batch.id == batch_id).with_for_update())


async def list_batches(
    session: AsyncSession, tenant_id: str, *, after: Batch | None, limit: int
) -> Sequence[Batch]:
    """Up to `limit` of the tenant's batches, newest first, starting past `after`."""
    query = select(Batch).where(Batch.tenant_id == tenant_id)
    if after is not None:
        cursor = tuple_(literal(after.created_at), literal(after.id))
        query = query.where(tuple_(Batch.created_at, Batch.id) < cursor)
    order = (Batch.created_at.desc(), Batch.id.desc())
    return (await session.scalars(query.order_by(*order).limit(limit))).all()


async def undispatched(session: AsyncSession, limit: int) -> Sequence[Batch]:
    """Batches whose request JetStream has not stored yet, oldest first."""
    query = select(Batch).where(Batch.dispatched_at.is_(None)).order_by(Batch.created_at, Batch.id)
    return (await session.scalars(query.limit(limit))).all()


async def mark_dispatched(session: AsyncSession, batch_id: str, at: int) -> None:
    """Notes that the batch's request is in the stream."""
    await session.execute(update(Batch).where(Batch.id == batch_id).values(dispatched_at=at))


async def done_lines(session: AsyncSession, batch_id: str) -> set[int]:
    """The numbers of the lines whose result is already recorded."""
    return set((await session.scalars(select(BatchLine.line).where(BatchLine.batch_id == batch_id))).all())


async def line_results(session: AsyncSession, batch_id: str) -> Sequence[BatchLine]:
    """Every recorded line result of the batch, in input order."""
    query = select(BatchLine).where(BatchLine.batch_id == batch_id).order_by(BatchLine.line)
    return (await session.scalars(query)).all()


async def record_line(session: AsyncSession, result: BatchLine) -> None:
    """Stores one line's result and counts it on its batch, in the caller's transaction."""
    session.add(result)
    if result.failed:
        values = {Batch.failed.key: Batch.failed + 1}
    else:
        values = {
            Batch.completed.key: Batch.completed + 1,
            Batch.input_tokens.key: Batch.input_tokens + result.input_tokens,
            Batch.output_tokens.key: Batch.output_tokens + result.output_tokens,
        }
    await session.execute(update(Batch).where(Batch.id == result.batch_id).values(values))
