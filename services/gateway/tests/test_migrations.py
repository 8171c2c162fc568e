"""The gateway's migrations over real SQLite and PostgreSQL databases: idempotent, concurrent, and in step
with the tables of every domain."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tuneway.core.db import create_engine, upgrade_database
from tuneway.gateway.app import MIGRATIONS
from tuneway.gateway.audit import tables as _audit  # noqa: F401  (registers audit_entries on Base)
from tuneway.gateway.batches import tables as _batches  # noqa: F401  (registers the batch tables on Base)
from tuneway.gateway.files import tables as _files  # noqa: F401  (registers the files table on Base)
from tuneway.gateway.tenancy.tables import Base


async def test_migrations_apply_twice(db_url: str) -> None:
    await upgrade_database(db_url, MIGRATIONS)
    await upgrade_database(db_url, MIGRATIONS)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = (
                await connection.execute(text("SELECT version_num FROM gateway_alembic_version"))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert {
        "tenants",
        "api_keys",
        "files",
        "batches",
        "batch_lines",
        "model_aliases",
        "audit_entries",
        "gateway_alembic_version",
    } <= tables
    assert version == "0007"


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"version_table": "gateway_alembic_version"}),
                Base.metadata,
            )
        )
    assert diff == []


def test_concurrent_migrations_from_separate_processes(db_url: str) -> None:
    # Separate processes, as replicas are: Alembic's context is process-global, so threads would not do.
    script = (
        "import asyncio, sys, pathlib; from tuneway.core.db import upgrade_database; "
        "asyncio.run(upgrade_database(sys.argv[1], pathlib.Path(sys.argv[2])))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, db_url, str(MIGRATIONS)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
