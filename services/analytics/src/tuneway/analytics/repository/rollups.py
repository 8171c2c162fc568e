"""Hourly and daily rollups: the adding upsert the consumer writes, and the GROUP BY that reads them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.analytics.models import ADDITIVE, ROLLUP_KEY, rollup_errors, rollups
from tuneway.analytics.repository.dialect import upsert_insert

# (tenant_id, period_ms, bucket_start_ms, *dimension values)
RollupKey = tuple[Any, ...]


async def add(
    session: AsyncSession,
    deltas: Mapping[RollupKey, Sequence[float]],
    errors: Mapping[tuple[RollupKey, str], int],
) -> None:
    """Adds each delta (values in ADDITIVE's order) to its row, creating rows that do not exist yet."""
    if deltas:
        statement = upsert_insert(session, rollups)
        statement = statement.on_conflict_do_update(
            index_elements=list(ROLLUP_KEY),
            set_={name: rollups.c[name] + statement.excluded[name] for name in ADDITIVE},
        )
        rows = [
            {**dict(zip(ROLLUP_KEY, key, strict=True)), **dict(zip(ADDITIVE, values, strict=True))}
            for key, values in sorted(deltas.items())  # one order for every writer: no deadlocks
        ]
        await session.execute(statement, rows)
    if errors:
        statement = upsert_insert(session, rollup_errors)
        statement = statement.on_conflict_do_update(
            index_elements=[*ROLLUP_KEY, "error_code"],
            set_={"errors": rollup_errors.c.errors + statement.excluded.errors},
        )
        rows = [
            {**dict(zip(ROLLUP_KEY, key, strict=True)), "error_code": code, "errors": count}
            for (key, code), count in sorted(errors.items())
        ]
        await session.execute(statement, rows)


def _conditions(
    table: Any, tenant_id: str, period_ms: int, start_ms: int, end_ms: int, filters: Mapping[str, str]
) -> list[Any]:
    return [
        table.c.tenant_id == tenant_id,
        table.c.period_ms == period_ms,
        table.c.bucket_start_ms >= start_ms,
        table.c.bucket_start_ms < end_ms,
        *(table.c[name] == value for name, value in filters.items()),
    ]


async def sums(
    session: AsyncSession,
    tenant_id: str,
    period_ms: int,
    start_ms: int,
    end_ms: int,
    group_by: Sequence[str],
    filters: Mapping[str, str],
) -> list[Any]:
    """One row per group (group_by may include "bucket_start_ms"): the group values, then the sums of
    ADDITIVE in its order."""
    keys = [rollups.c[name] for name in group_by]
    statement = (
        select(*keys, *(func.sum(rollups.c[name]) for name in ADDITIVE))
        .where(*_conditions(rollups, tenant_id, period_ms, start_ms, end_ms, filters))
        .group_by(*keys)
    )
    return list((await session.execute(statement)).all())


async def error_sums(
    session: AsyncSession,
    tenant_id: str,
    period_ms: int,
    start_ms: int,
    end_ms: int,
    group_by: Sequence[str],
    filters: Mapping[str, str],
) -> list[Any]:
    """One row per group and error code: the group values, the code, the errors."""
    keys = [rollup_errors.c[name] for name in group_by]
    statement = (
        select(*keys, rollup_errors.c.error_code, func.sum(rollup_errors.c.errors))
        .where(*_conditions(rollup_errors, tenant_id, period_ms, start_ms, end_ms, filters))
        .group_by(*keys, rollup_errors.c.error_code)
    )
    return list((await session.execute(statement)).all())
