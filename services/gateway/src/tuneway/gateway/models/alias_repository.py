"""Data access of model aliases over an AsyncSession; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.gateway.models.alias_tables import ModelAlias


async def list_aliases(session: AsyncSession, tenant_id: str) -> Sequence[ModelAlias]:
    """The tenant's aliases, by name."""
    query = select(ModelAlias).where(ModelAlias.tenant_id == tenant_id).order_by(ModelAlias.alias)
    return (await session.scalars(query)).all()


async def get_alias(session: AsyncSession, tenant_id: str, alias: str) -> ModelAlias | None:
    """The tenant's alias of this name, if any."""
    return await session.get(ModelAlias, (tenant_id, alias))


async def delete_alias(session: AsyncSession, tenant_id: str, alias: str) -> None:
    """Deletes the tenant's alias of this name (nothing if there is none)."""
    await session.execute(
        delete(ModelAlias).where(ModelAlias.tenant_id == tenant_id, ModelAlias.alias == alias)
    )
