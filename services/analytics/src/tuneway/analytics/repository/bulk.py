"""Bulk writes for one batch: COPY into a temporary table on PostgreSQL, executemany on SQLite.

Per-row INSERT statements through the ORM layer cost more than the rest of a batch together; these
helpers hand the rows to the driver in one call instead. The SQL is spelled out (quoted identifiers:
`user` is a reserved word on PostgreSQL) because it is built from the tables' own column names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, String, bindparam, func, select, text
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
    await connection.execute(
        f'CREATE TEMPORARY TABLE IF NOT EXISTS "{scratch}" (LIKE "{table}" INCLUDING DEFAULTS)'
        " ON COMMIT DELETE ROWS"
    )
    # Another statement of this transaction may have used it already.
    await connection.execute(f'TRUNCATE "{scratch}"')
    await connection.copy_records_to_table(scratch, records=rows, columns=list(columns))
    return connection, scratch


async def executemany(session: AsyncSession, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """Runs `statement` (qmark parameters) once per row in one driver call (SQLite)."""
    connection = await session.connection()
    await connection.exec_driver_sql(statement, list(rows))


def one_of(session: AsyncSession, column: Any, values: Sequence[str]) -> Any:
    """`column IN values` as one parameter (an array on PostgreSQL, a JSON list on SQLite): no statement
    with thousands of placeholders to compile per batch, and no chunking."""
    if is_postgresql(session):
        # IN (SELECT unnest(array)), not = ANY(array): a prepared statement's generic plan for ANY
        # guesses a large array and scans the whole table; unnest's small estimate keeps index lookups.
        return column.in_(select(func.unnest(bindparam("one_of", list(values), type_=ARRAY(String)))))
    listed = func.json_each(json.dumps(list(values))).table_valued("value")
    return column.in_(select(listed.c.value))
