"""Bulk writes for one batch: COPY into a temporary table on PostgreSQL, executemany on SQLite.

Per-row INSERT statements through the ORM layer cost more than the rest of a batch together; these
helpers hand the rows to the driver in one call instead. The SQL is spelled out (quoted identifiers:
`user` is a reserved word on PostgreSQL) because it is built from the tables' own column names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, String, bindparam, func, select, text, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside the session's transaction."""
    # The adapter opens its transaction lazily on the first statement; run one so the raw calls below
    # belong to it (and commit or roll back with the rest of the batch).
    await session.execute(text("SELECT 1"))
    raw = await (await session.connection()).get_raw_connection()
    return raw.driver_connection


async def copy_to_scratch(
    session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[Any, str]:
    """COPYs `rows` into a temporary copy of `table` emptied at commit; returns (connection, its name)."""
    connection = await driver_connection(session)
    scratch = f"scratch_{table}"
    # TRUNCATE: another statement of this transaction may have used it already. Both in one round trip
    # (a simple query). (Its ORDER BY sorts spill to disk with the default work_mem; a larger one cost
    # PostgreSQL more CPU, not less, in the bench.)
    await connection.execute(
        f'CREATE TEMPORARY TABLE IF NOT EXISTS "{scratch}" (LIKE "{table}" INCLUDING DEFAULTS)'
        f' ON COMMIT DELETE ROWS; TRUNCATE "{scratch}"'
    )
    await connection.copy_records_to_table(scratch, records=rows, columns=list(columns))
    return connection, scratch


async def executemany(session: AsyncSession, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """Runs `statement` (qmark parameters) once per row in one driver call (SQLite)."""
    connection = await session.connection()
    await connection.exec_driver_sql(statement, list(rows))


def by_keys(
    session: AsyncSession,
    table: Any,
    columns: Sequence[Any],
    key_column: str,
    keys: Sequence[tuple[str, str]],
    *,
    lock: bool = False,
) -> Any:
    """SELECT `columns` of the rows of `table` whose (tenant_id, `key_column`) is one of `keys` (any
    tenants), as one statement with one parameter per column (no statement with thousands of
    placeholders, no chunking, one round trip for a batch of many tenants).

    On PostgreSQL every key is an index probe (a LATERAL subquery per key; its OFFSET 0 keeps the
    planner from turning it back into a join). A plain `IN (...)` leaves the choice to the planner, and
    with stale statistics or a prepared statement's generic plan it scanned the tenant's rows once per
    key: seconds per batch before the first ANALYZE. `lock` takes the rows FOR UPDATE there.
    """
    if is_postgresql(session):
        wanted = (
            func.unnest(
                bindparam("tenants", [tenant for tenant, _ in keys], type_=ARRAY(String)),
                bindparam("keys", [key for _, key in keys], type_=ARRAY(String)),
            )
            .table_valued("tenant", "key")
            .render_derived(name="wanted")
        )
        probe = (
            select(*columns)
            .where(table.c.tenant_id == wanted.c.tenant, table.c[key_column] == wanted.c.key)
            .offset(0)
        )
        if lock:
            probe = probe.with_for_update()
        found = probe.lateral("found")
        return select(*found.c).select_from(wanted).join(found, true())
    listed = func.json_each(json.dumps([list(pair) for pair in keys])).table_valued("value")
    pairs = select(func.json_extract(listed.c.value, "$[0]"), func.json_extract(listed.c.value, "$[1]"))
    return select(*columns).where(tuple_(table.c.tenant_id, table.c[key_column]).in_(pairs))
