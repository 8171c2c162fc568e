"""Every service migrates forward on PostgreSQL from each of its earlier revisions with data in place:
a database stopped at revision r, with a row in every table, upgrades to head and keeps those rows. A
migration that adds a NOT NULL column without a default, or rewrites a table and loses its rows, fails
here; a new revision is covered without a new test."""

from __future__ import annotations

import asyncio
import datetime
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from tuneway.analytics.main import MIGRATIONS as ANALYTICS
from tuneway.core.db import _alembic_config, create_engine
from tuneway.gateway.app import MIGRATIONS as GATEWAY
from tuneway.prompt_svc.main import MIGRATIONS as PROMPT_SVC
from tuneway.retriever.main import MIGRATIONS as RETRIEVER
from tuneway.trainer.startup import MIGRATIONS as TRAINER

pytestmark = pytest.mark.integration

SERVICES = {
    "gateway": GATEWAY,
    "prompt-svc": PROMPT_SVC,
    "retriever": RETRIEVER,
    "trainer": TRAINER,
    "analytics": ANALYTICS,
}


def _earlier_revisions() -> list[tuple[str, str]]:
    """(service, revision) for every revision but the head, oldest first."""
    found = []
    for service, location in SERVICES.items():
        script = ScriptDirectory.from_config(_alembic_config(location, "sqlite://"))
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        found += [(service, revision) for revision in revisions[:-1]]
    return found


def _value(column: sa.Column[Any], allowed: dict[str, str]) -> Any:
    """One value the column takes: the same for every column of a type, so foreign keys line up with
    the rows of the tables they name; a CHECK's first allowed literal where one constrains it."""
    if column.name in allowed:
        return allowed[column.name]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, (sa.Float, sa.Numeric)):
        return 1.0
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.LargeBinary):
        return b"x"
    if isinstance(kind, sa.DateTime):
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    if isinstance(kind, sa.Date):
        return datetime.date(2026, 1, 1)
    if isinstance(kind, sa.ARRAY):
        return []
    return "x"


def _checked_literals(connection: Connection, table: str) -> dict[str, str]:
    """column -> the first literal a CHECK (column IN ('a', ...)) allows."""
    allowed = {}
    for check in sa.inspect(connection).get_check_constraints(table):
        found = re.match(r"\(?\(?(\w+)\)?(?:::\w+)?\s*(?:=\s*ANY|IN)\b.*?'([^']*)'", check["sqltext"])
        if found:
            allowed[found[1]] = found[2]
    return allowed


def _fill(connection: Connection) -> dict[str, int]:
    """A row in every table that has none yet (parents first; a migration may have written one, as the
    analytics service's 0003 does its fold mark); the rows each table holds."""
    metadata = sa.MetaData()
    metadata.reflect(connection)
    counts = {}
    for table in metadata.sorted_tables:
        if table.name.endswith("alembic_version"):
            continue
        held = int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        if held:
            counts[table.name] = held
            continue
        allowed = _checked_literals(connection, table.name)
        row = {
            c.name: _value(c, allowed)
            for c in table.columns
            if not (c.autoincrement is True and c.primary_key)
        }
        connection.execute(table.insert().values(row))
        counts[table.name] = 1
    return counts


def _counts(connection: Connection, tables: list[str]) -> dict[str, int]:
    present = set(sa.inspect(connection).get_table_names())
    return {
        t: int(connection.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar_one())
        for t in tables
        if t in present
    }


@pytest.mark.parametrize(("service", "revision"), _earlier_revisions())
async def test_migrates_to_head_from_an_earlier_revision_with_data(
    service: str, revision: str, postgres_url: str
) -> None:
    config = _alembic_config(SERVICES[service], postgres_url)
    await asyncio.to_thread(command.upgrade, config, revision)
    engine = create_engine(postgres_url)
    try:
        async with engine.begin() as connection:
            filled = await connection.run_sync(_fill)
        assert filled, f"{service} at {revision} has no table"
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            kept = await connection.run_sync(_counts, list(filled))
    finally:
        await engine.dispose()
    # A table a later revision dropped on purpose is not counted; every other keeps its row.
    assert kept == {t: filled[t] for t in kept}, f"{service} {revision} -> head lost rows: {kept}"
    assert kept, f"{service} {revision} -> head kept no table"


def test_every_service_with_migrations_is_covered() -> None:
    here = Path(__file__).resolve().parents[1]
    with_migrations = {p.parts[-6] for p in here.glob("services/*/src/tuneway/*/migrations/versions")}
    assert with_migrations == set(SERVICES)
