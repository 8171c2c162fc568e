"""How far the daily rollup rows reach, and the fold that adds closed hours up into daily rows.

A batch writes daily rows only for days already folded (late events); the days after that have hourly
rows only until `fold` sums their hours into daily rows in one statement per table and moves the mark.
The mark's row is the lock between the two: a batch reads it FOR SHARE first, the fold takes it FOR
UPDATE first, so a fold never misses the hours of a batch that read the old mark, and a batch that
reads the new mark adds its late events to the daily rows the fold wrote. (SQLite has one writer at a
time: both take its write lock before reading the mark.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, func, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.analytics.domain import DAY_MS, HOUR_MS
from tuneway.analytics.models import FOLDS_ROW, ROLLUP_MEASURES, rollup_errors, rollup_folds, rollups
from tuneway.analytics.repository.bulk import is_postgresql

_MARK = rollup_folds.c.folded_until_ms


async def folded_until(session: AsyncSession, *, lock: bool = False) -> int:
    """The start of the first day without daily rows (0: none has them). `lock` holds it until the
    transaction ends, so no fold moves it meanwhile: FOR SHARE on PostgreSQL (batches do not wait for
    each other), SQLite's write lock (taken by writing the row unchanged) there."""
    statement = select(_MARK).where(rollup_folds.c.id == FOLDS_ROW)
    if lock and is_postgresql(session):
        statement = statement.with_for_update(read=True)
    elif lock:
        await _write_lock(session)
    return int((await session.execute(statement)).scalar_one_or_none() or 0)


async def _write_lock(session: AsyncSession) -> None:
    """SQLite's write lock, at once: a transaction that read first and writes later can find another
    writer in between and fail."""
    await session.execute(update(rollup_folds).where(rollup_folds.c.id == FOLDS_ROW).values(id=FOLDS_ROW))


async def fold(session: AsyncSession, until_ms: int) -> tuple[int, int]:
    """Adds the hourly rows of the days in [mark, `until_ms`) up into their daily rows and moves the mark
    to `until_ms` (a day start); returns the days folded as (from, to), empty when the mark is there."""
    if is_postgresql(session):
        statement = select(_MARK).where(rollup_folds.c.id == FOLDS_ROW).with_for_update()
        mark = int((await session.execute(statement)).scalar_one())
    else:
        mark = await folded_until(session, lock=True)
    if until_ms <= mark:
        return mark, mark
    await session.execute(_fold_statement(rollups, ROLLUP_MEASURES, (), mark, until_ms))
    await session.execute(_fold_statement(rollup_errors, ("errors",), ("error_code",), mark, until_ms))
    moved = update(rollup_folds).where(rollup_folds.c.id == FOLDS_ROW).values(folded_until_ms=until_ms)
    await session.execute(moved)
    return mark, until_ms


def _fold_statement(
    table: Table, measures: tuple[str, ...], extra_key: tuple[str, ...], from_ms: int, to_ms: int
) -> Any:
    """INSERT the daily rows of [from, to) as the sums of their hourly rows. A plain INSERT: no daily row
    of those days can exist (no batch writes one past the mark), and a conflict would mean one did."""
    bucket = table.c.bucket_start_ms
    # Spelled inline, not as parameters: the SELECT's day must be the GROUP BY's expression to the letter.
    day_ms: ColumnElement[int] = literal_column(str(DAY_MS))
    day = bucket - bucket % day_ms
    key = [table.c.tenant_id, table.c.dimension_set, day, table.c.first_value, table.c.second_value]
    key += [table.c[name] for name in extra_key]
    rows = (
        select(
            table.c.tenant_id,
            table.c.dimension_set,
            day_ms.label("period_ms"),
            day.label("day_start_ms"),
            table.c.first_value,
            table.c.second_value,
            *(table.c[name] for name in extra_key),
            *(func.sum(table.c[name]).label(name) for name in measures),
        )
        .where(table.c.period_ms == HOUR_MS, bucket >= from_ms, bucket < to_ms)
        .group_by(*key)
    )
    columns = [
        "tenant_id",
        "dimension_set",
        "period_ms",
        "bucket_start_ms",
        "first_value",
        "second_value",
        *extra_key,
        *measures,
    ]
    return insert(table).from_select(columns, rows)
