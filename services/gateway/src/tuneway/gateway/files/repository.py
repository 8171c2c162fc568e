"""Data access of file records over an AsyncSession; callers own the transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.gateway.files.tables import File

# What files.service.new_file_id makes. Any other id names no file and is not sent to the database:
# PostgreSQL refuses a NUL byte in text with an error (a 500), where SQLite just finds nothing.
FILE_ID = re.compile(r"file-[0-9a-f]{24}")


async def get_file(session: AsyncSession, tenant_id: str, file_id: str) -> File | None:
    """The tenant's file with this id; another tenant's file is None, like a missing one."""
    if not FILE_ID.fullmatch(file_id):
        return None
    return await session.scalar(select(File).where(File.id == file_id, File.tenant_id == tenant_id))


async def list_files(
    session: AsyncSession,
    tenant_id: str,
    *,
    purpose: str | None,
    after: File | None,
    limit: int,
    descending: bool,
) -> Sequence[File]:
    """Up to `limit` of the tenant's files ordered by (created_at, id), starting past `after`."""
    query = select(File).where(File.tenant_id == tenant_id)
    if purpose is not None:
        query = query.where(File.purpose == purpose)
    key = tuple_(File.created_at, File.id)
    if after is not None:
        cursor = tuple_(literal(after.created_at), literal(after.id))
        query = query.where(key < cursor if descending else key > cursor)
    order = (File.created_at.desc(), File.id.desc()) if descending else (File.created_at, File.id)
    return (await session.scalars(query.order_by(*order).limit(limit))).all()
