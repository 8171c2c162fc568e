"""Alembic environment of the gateway: async engine, run by tuneway.core.db.upgrade_database in a thread."""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

from alembic import context
from sqlalchemy import event, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tuneway.gateway.models import Base

config = context.config
target_metadata = Base.metadata

# Several gateway processes may start together against one database. All migrations run in one
# transaction that the later processes wait for, so they find the schema at head: on PostgreSQL behind a
# transaction-scoped advisory lock, on SQLite behind BEGIN IMMEDIATE (see _sqlite_transactions).
_PG_LOCK_ID = zlib.crc32(b"tuneway-gateway-migrations")


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set; tuneway.core.db.upgrade_database sets it")
    return url


def run_migrations_offline() -> None:
    """Renders the SQL of the migrations without a database (`alembic upgrade --sql`)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


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


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables for later migrations.
        render_as_batch=sqlite,
        # SQLite does support transactional DDL once the driver lets it (all or nothing, like PostgreSQL).
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        context.run_migrations()


async def run_migrations_online() -> None:
    """Applies the migrations over an async engine of the configured URL."""
    url = _url()
    sqlite = url.startswith("sqlite")
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args={"timeout": 60} if sqlite else {})
    if sqlite:
        _sqlite_transactions(engine)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
