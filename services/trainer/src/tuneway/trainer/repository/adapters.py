"""Queries of adapter versions and aliases (by tenant, but for lookups by key whose caller checks it),
and their rows as values."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.trainer import domain as d
from tuneway.trainer.models import AdapterVersionRow, AliasRow
from tuneway.trainer.repository.columns import from_columns


def version_of(row: AdapterVersionRow) -> d.AdapterVersion:
    """The domain value of a version row."""
    return from_columns(d.AdapterVersion, row)


def alias_of(row: AliasRow) -> d.AdapterAlias:
    """The domain value of an alias row."""
    return from_columns(d.AdapterAlias, row, history=tuple(row.history))


# ---------------------------------------------------------------- versions


async def get_version(session: AsyncSession, model: str) -> AdapterVersionRow | None:
    """A version by its model name, whichever tenant's (the caller checks)."""
    return await session.get(AdapterVersionRow, model)


async def version_of_job(session: AsyncSession, job_id: str) -> AdapterVersionRow | None:
    """The version a job recorded, if it recorded one."""
    query = select(AdapterVersionRow).where(AdapterVersionRow.job_id == job_id)
    return (await session.execute(query)).scalar_one_or_none()


async def last_version_number(session: AsyncSession, tenant_id: str, name: str) -> int:
    """The highest version number of the tenant's family `name`; 0 before its first."""
    query = select(func.max(AdapterVersionRow.version)).where(
        AdapterVersionRow.tenant_id == tenant_id, AdapterVersionRow.name == name
    )
    return int((await session.execute(query)).scalar() or 0)


async def list_versions(
    session: AsyncSession, tenant_id: str, name: str, include_retired: bool
) -> list[AdapterVersionRow]:
    """The tenant's versions (of family `name` if given), by family then number."""
    query = select(AdapterVersionRow).where(AdapterVersionRow.tenant_id == tenant_id)
    if name:
        query = query.where(AdapterVersionRow.name == name)
    if not include_retired:
        query = query.where(AdapterVersionRow.status == d.ACTIVE)
    query = query.order_by(AdapterVersionRow.name, AdapterVersionRow.version)
    return list((await session.execute(query)).scalars())


# ---------------------------------------------------------------- aliases


async def get_alias(session: AsyncSession, tenant_id: str, alias: str) -> AliasRow | None:
    """One of the tenant's aliases."""
    return await session.get(AliasRow, (tenant_id, alias))


async def aliases_targeting(session: AsyncSession, tenant_id: str, model: str) -> list[str]:
    """The names of the tenant's aliases that point at `model` now."""
    query = select(AliasRow.alias).where(AliasRow.tenant_id == tenant_id, AliasRow.target == model)
    return list((await session.execute(query)).scalars().all())


async def list_aliases(session: AsyncSession, tenant_id: str) -> list[AliasRow]:
    """The tenant's aliases by name."""
    query = select(AliasRow).where(AliasRow.tenant_id == tenant_id).order_by(AliasRow.alias)
    return list((await session.execute(query)).scalars())
