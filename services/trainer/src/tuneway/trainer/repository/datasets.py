"""Queries of the datasets the gateway registered (every one filtered by tenant), and their rows as values."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.trainer import domain as d
from tuneway.trainer.models import DatasetRow


def dataset_of(row: DatasetRow) -> d.Dataset:
    """The domain value of a dataset row."""
    return d.Dataset(row.file_id, row.tenant_id, row.filename, row.uri, row.sha256, row.bytes, row.created_at)


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
