"""run_env over real SQLite and PostgreSQL: a version table per service, and the legacy table moved over."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tuneway.core.db import create_engine, upgrade_database

ENV = """
from sqlalchemy import Column, Integer, Table
from tuneway.core.db import service_metadata
from tuneway.core.migrations_env import run_env

metadata = service_metadata()
Table("things", metadata, Column("id", Integer, primary_key=True))
run_env(metadata, service="demo-svc", legacy_version_table="alembic_version")
"""

REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

def upgrade():
    op.create_table("things", sa.Column("id", sa.Integer, primary_key=True))
"""


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    root = tmp_path / "migrations"
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(textwrap.dedent(ENV))
    (root / "versions" / "0001_things.py").write_text(textwrap.dedent(REVISION))
    return root


@pytest.fixture(params=["sqlite_url", "postgres_url"])
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


async def _tables_and_versions(url: str) -> tuple[set[str], list[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            versions = [
                row[0]
                for row in await connection.execute(text("SELECT version_num FROM demo_svc_alembic_version"))
            ]
    finally:
        await engine.dispose()
    return tables, versions


async def test_each_service_has_its_own_version_table(migrations: Path, database_url: str) -> None:
    await upgrade_database(database_url, migrations)
    await upgrade_database(database_url, migrations)  # a second start finds the schema at head
    tables, versions = await _tables_and_versions(database_url)
    assert {"things", "demo_svc_alembic_version"} <= tables
    assert "alembic_version" not in tables
    assert versions == ["0001"]


async def test_a_revision_in_the_legacy_table_is_moved_over(migrations: Path, database_url: str) -> None:
    """A database migrated by an earlier release (shared `alembic_version`) starts without re-running
    its migrations, which would fail on the tables that exist."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE things (id INTEGER PRIMARY KEY)"))
            await connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            await connection.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    finally:
        await engine.dispose()
    await upgrade_database(database_url, migrations)
    tables, versions = await _tables_and_versions(database_url)
    assert "alembic_version" not in tables
    assert versions == ["0001"]


async def test_another_services_legacy_table_is_left_alone(migrations: Path, database_url: str) -> None:
    """Without this service's tables beside it, the legacy revision belongs to someone else."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            await connection.execute(text("INSERT INTO alembic_version VALUES ('0007')"))
    finally:
        await engine.dispose()
    await upgrade_database(database_url, migrations)
    tables, versions = await _tables_and_versions(database_url)
    assert {"things", "alembic_version"} <= tables
    assert versions == ["0001"]
