"""SQL of the audit log over an AsyncSession; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.gateway.audit.tables import AuditEntry
from tuneway.gateway.tenancy.tables import ApiKey


async def key_name(session: AsyncSession, key_id: str) -> str:
    """The name of the key `key_id` ("" when it has none, or no longer exists)."""
    name = await session.scalar(select(ApiKey.name).where(ApiKey.id == key_id))
    return name or ""


async def get_entry(session: AsyncSession, tenant_id: str, entry_id: str) -> AuditEntry | None:
    """The tenant's entry of this id, if any."""
    query = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id, AuditEntry.id == entry_id)
    return (await session.scalars(query)).one_or_none()


async def list_entries(
    session: AsyncSession,
    tenant_id: str,
    *,
    before_seq: int | None,
    limit: int,
    resource_type: str | None = None,
    resource_id: str | None = None,
    action: str | None = None,
) -> Sequence[AuditEntry]:
    """Up to `limit` of the tenant's entries, newest first, older than `before_seq` when given, and matching
    each filter given."""
    query = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    if resource_type is not None:
        query = query.where(AuditEntry.resource_type == resource_type)
    if resource_id is not None:
        query = query.where(AuditEntry.resource_id == resource_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return (await session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit))).all()
