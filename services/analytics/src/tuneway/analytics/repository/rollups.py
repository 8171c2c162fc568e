"""Rollups per tenant, dimension set, hour and day: the adding upsert the consumer writes, and the
GROUP BY that reads one set's rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.analytics.models import (
    ADDITIVE,
    ERROR_WRITE_COLUMNS,
    ROLLUP_KEY,
    ROLLUP_MEASURES,
    ROLLUP_WRITE_COLUMNS,
    rollup_errors,
    rollups,
)
from tuneway.analytics.repository.bulk import copy_to_scratch, executemany, is_postgresql, quoted
from tuneway.analytics.rollup_batch import RollupRows

_ERROR_KEY = (*ROLLUP_KEY, "error_code")


def _adding_upsert(table: str, columns: Sequence[str], key: Sequence[str], added: Sequence[str]) -> str:
    """`INSERT ... ON CONFLICT (key) DO UPDATE` adding `added`; the rows come after it (VALUES or SELECT).
    A NULL measure is 0 (models.py): the sum where both are set, else whichever is (NULL if neither)."""
    updates = ", ".join(
        f'"{name}" = COALESCE("{table}"."{name}" + excluded."{name}", "{table}"."{name}", excluded."{name}")'
        for name in added
    )
    return (
        f'INSERT INTO "{table}" ({quoted(columns)}) {{rows}}'
        f" ON CONFLICT ({quoted(key)}) DO UPDATE SET {updates}"
    )


_ROLLUP_UPSERT = _adding_upsert("rollups", ROLLUP_WRITE_COLUMNS, ROLLUP_KEY, ROLLUP_MEASURES)
_ERROR_UPSERT = _adding_upsert("rollup_errors", ERROR_WRITE_COLUMNS, _ERROR_KEY, ("errors",))


async def add(session: AsyncSession, rows: RollupRows) -> None:
    """Adds each row's measures to its stored row, creating rows that do not exist yet (one statement per
    table; the rows come sorted by key, so concurrent writers lock them in the same order)."""
    for table, columns, key, upsert, values in (
        ("rollups", ROLLUP_WRITE_COLUMNS, ROLLUP_KEY, _ROLLUP_UPSERT, rows.rollups),
        ("rollup_errors", ERROR_WRITE_COLUMNS, _ERROR_KEY, _ERROR_UPSERT, rows.errors),
    ):
        if not values:
            continue
        if is_postgresql(session):
            connection, scratch = await copy_to_scratch(session, table, columns, values)
            select_rows = f'SELECT {quoted(columns)} FROM "{scratch}" ORDER BY {quoted(key)}'
            await connection.execute(upsert.format(rows=select_rows))
        else:
            placeholders = ", ".join("?" for _ in columns)
            await executemany(session, upsert.format(rows=f"VALUES ({placeholders})"), values)


def _conditions(
    table: Any,
    tenant_id: str,
    set_id: int,
    period_ms: int,
    start_ms: int,
    end_ms: int,
    filters: Mapping[str, str],
) -> list[Any]:
    return [
        table.c.tenant_id == tenant_id,
        table.c.dimension_set == set_id,
        table.c.period_ms == period_ms,
        table.c.bucket_start_ms >= start_ms,
        table.c.bucket_start_ms < end_ms,
        *(table.c[column] == value for column, value in filters.items()),
    ]


async def sums(
    session: AsyncSession,
    tenant_id: str,
    set_id: int,
    period_ms: int,
    start_ms: int,
    end_ms: int,
    group_by: Sequence[str],
    filters: Mapping[str, str],
) -> list[Any]:
    """One row per group of set `set_id`'s rows (group_by and filters name rollup columns: the value
    columns, and "bucket_start_ms"): the group values, then the sums of ADDITIVE in its order."""
    keys = [rollups.c[name] for name in group_by]
    statement = (
        select(*keys, *(func.sum(rollups.c[name]) for name in ADDITIVE))
        .where(*_conditions(rollups, tenant_id, set_id, period_ms, start_ms, end_ms, filters))
        .group_by(*keys)
    )
    return list((await session.execute(statement)).all())


async def error_sums(
    session: AsyncSession,
    tenant_id: str,
    set_id: int,
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
        .where(*_conditions(rollup_errors, tenant_id, set_id, period_ms, start_ms, end_ms, filters))
        .group_by(*keys, rollup_errors.c.error_code)
    )
    return list((await session.execute(statement)).all())
