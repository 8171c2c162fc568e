"""The body of every service's Alembic env.py: async engine, one transaction, safe concurrent starts.

Several replicas of a service may start together against one database. All migrations run in one
transaction that the later processes wait for, so they find the schema at head: on PostgreSQL
behind a transaction-scoped advisory lock, on SQLite behind BEGIN IMMEDIATE (_sqlite_transactions).
tuneway.core.db.upgrade_database runs it in a thread and sets sqlalchemy.url.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

from alembic import context
from sqlalchemy import MetaData, event, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def run_env(metadata: MetaData, *, lock_name: str, version_table: str = "alembic_version") -> None:
    """Runs the migrations of the env.py that calls it (offline renders SQL; online applies it).

    `lock_name` names the service's advisory lock; `version_table` lets services share a database.
    """
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set; tuneway.core.db.upgrade_database sets it")
    if context.is_offline_mode():
        context.configure(
            url=url,
            target_metadata=metadata,
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
            render_as_batch=url.startswith("sqlite"),
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, metadata, zlib.crc32(lock_name.encode()), version_table))


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """Real SQLite transactions: the driver would leave DDL outside any transaction, so BEGIN is ours."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so a second migrator waits (busy timeout) instead of
        # reading an old version and failing on "table already exists".
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _run_online(url: str, metadata: MetaData, lock_id: int, version_table: str) -> None:
    sqlite = url.startswith("sqlite")
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args={"timeout": 60} if sqlite else {})
    if sqlite:
        _sqlite_transactions(engine)

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            # SQLite cannot ALTER most things in place; batch mode rebuilds tables for later migrations.
            render_as_batch=sqlite,
            # SQLite does support transactional DDL once the driver lets it (all or nothing).
            transactional_ddl=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
            context.run_migrations()

    try:
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
    finally:
        await engine.dispose()
