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
from sqlalchemy import MetaData, event, inspect, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def run_env(metadata: MetaData, *, service: str, legacy_version_table: str | None = None) -> None:
    """Runs the migrations of the env.py that calls it (offline renders SQL; online applies it).

    Each service keeps its revision in a version table of its own (`<service>_alembic_version`), so
    services may share one database, and migrates under an advisory lock of its own. A database whose
    revision is still in `legacy_version_table` (the shared `alembic_version` that early releases of
    the gateway and the trainer used) has it moved over on the first start.
    """
    version_table = f"{service.replace('-', '_')}_alembic_version"
    lock_name = f"tuneway-{service}-migrations"
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
    asyncio.run(
        _run_online(url, metadata, zlib.crc32(lock_name.encode()), version_table, legacy_version_table)
    )


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


def _adopt_legacy_version(
    connection: Connection, metadata: MetaData, version_table: str, legacy_table: str
) -> None:
    """Moves this service's revision from the shared legacy table into its own version table.

    The legacy row is this service's when the service's tables exist beside it (two services could
    never share the legacy table: their revisions would have overwritten each other).
    """
    existing = set(inspect(connection).get_table_names())
    if version_table in existing or legacy_table not in existing:
        return
    if not existing & set(metadata.tables):
        return
    revisions = [row[0] for row in connection.execute(text(f"SELECT version_num FROM {legacy_table}"))]
    connection.execute(text(f"CREATE TABLE {version_table} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    for revision in revisions:
        connection.execute(text(f"INSERT INTO {version_table} (version_num) VALUES (:v)"), {"v": revision})
    connection.execute(text(f"DROP TABLE {legacy_table}"))


async def _run_online(
    url: str, metadata: MetaData, lock_id: int, version_table: str, legacy_table: str | None
) -> None:
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
            if legacy_table:
                _adopt_legacy_version(connection, metadata, version_table, legacy_table)
            context.run_migrations()

    try:
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
    finally:
        await engine.dispose()
