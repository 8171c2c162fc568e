"""Data access of tenants and API keys over an AsyncSession; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.gateway.tenancy.tables import ApiKey, Tenant


async def get_tenant(session: AsyncSession, tenant_id: str) -> Tenant | None:
    """The tenant with this id, if any."""
    return await session.get(Tenant, tenant_id)


async def get_tenant_by_name(session: AsyncSession, name: str) -> Tenant | None:
    """The tenant with this name, if any."""
    return await session.scalar(select(Tenant).where(Tenant.name == name))


async def list_tenants(session: AsyncSession) -> Sequence[Tenant]:
    """Every tenant, oldest first."""
    return (await session.scalars(select(Tenant).order_by(Tenant.created_at, Tenant.name))).all()


async def lock_tenant(session: AsyncSession, tenant_id: str) -> bool:
    """Write-locks the tenant's row until commit; False if it does not exist.

    A no-op UPDATE rather than SELECT ... FOR UPDATE: PostgreSQL takes a row lock either way, and on
    SQLite only a write as the transaction's first statement takes the database's write lock, so
    check-then-insert sequences after it are serialized on both.
    """
    statement = (
        update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(name=Tenant.name)
        .execution_options(synchronize_session=False)
    )
    # A DML statement's result is a CursorResult, which carries rowcount.
    result = cast(CursorResult[Any], await session.execute(statement))
    return bool(result.rowcount)


async def find_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """The key with this hash, revoked or not."""
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


async def get_key(session: AsyncSession, key_id: str, tenant_id: str | None = None) -> ApiKey | None:
    """The key with this id, restricted to `tenant_id` when given."""
    query = select(ApiKey).where(ApiKey.id == key_id)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    return await session.scalar(query)


async def list_keys(session: AsyncSession, tenant_id: str | None = None) -> Sequence[ApiKey]:
    """The keys of one tenant (or of all, for operators), oldest first, revoked ones included."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    return (await session.scalars(query)).all()


async def count_active_admin_keys(session: AsyncSession) -> int:
    """How many unrevoked admin keys exist, in any tenant."""
    query = (
        select(func.count()).select_from(ApiKey).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
    )
    return int(await session.scalar(query) or 0)


async def revoke_key(session: AsyncSession, key: ApiKey, now: int) -> None:
    """Marks the key revoked at `now` unless it already is (the first revocation time stays)."""
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
