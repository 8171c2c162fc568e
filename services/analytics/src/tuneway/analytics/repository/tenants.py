"""A tenant's own query types and settings."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.analytics.domain import TenantSettings
from tuneway.analytics.models import QueryTypeRow, TenantSettingsRow


async def query_types(session: AsyncSession, tenant_id: str) -> list[tuple[str, list[str]]]:
    """(name, examples) of the tenant's own types, by name."""
    result = await session.execute(
        select(QueryTypeRow.name, QueryTypeRow.examples)
        .where(QueryTypeRow.tenant_id == tenant_id)
        .order_by(QueryTypeRow.name)
    )
    return [(name, list(examples)) for name, examples in result.all()]


async def put_query_type(
    session: AsyncSession, tenant_id: str, name: str, examples: list[str], now_ms: int
) -> None:
    """Creates or replaces the tenant's type `name`."""
    row = await session.get(QueryTypeRow, (tenant_id, name))
    if row is None:
        session.add(QueryTypeRow(tenant_id=tenant_id, name=name, examples=examples, updated_at_ms=now_ms))
    else:
        row.examples, row.updated_at_ms = examples, now_ms


async def delete_query_type(session: AsyncSession, tenant_id: str, name: str) -> bool:
    """Deletes the tenant's type `name`; False when the tenant has none of that name."""
    result = await session.execute(
        delete(QueryTypeRow).where(QueryTypeRow.tenant_id == tenant_id, QueryTypeRow.name == name)
    )
    return bool(getattr(result, "rowcount", 0))


async def settings(session: AsyncSession, tenant_ids: Iterable[str]) -> dict[str, TenantSettings]:
    """Each tenant's settings (the defaults for tenants without a row)."""
    ids = list(set(tenant_ids))
    result = await session.execute(select(TenantSettingsRow).where(TenantSettingsRow.tenant_id.in_(ids)))
    stored = {
        row.tenant_id: TenantSettings(keep_message_text=row.keep_message_text) for row in result.scalars()
    }
    return {tenant: stored.get(tenant, TenantSettings()) for tenant in ids}


async def put_settings(session: AsyncSession, tenant_id: str, value: TenantSettings) -> None:
    """Stores the tenant's settings."""
    row = await session.get(TenantSettingsRow, tenant_id)
    if row is None:
        session.add(TenantSettingsRow(tenant_id=tenant_id, keep_message_text=value.keep_message_text))
    else:
        row.keep_message_text = value.keep_message_text
