"""Rollup measures may be NULL, meaning 0, and the rollups table's pages keep room for HOT updates.

Most of a rollup row's 95 measures are zero; written as NULL they take a bit of the row's null bitmap
on PostgreSQL instead of 4 or 8 bytes each, and the ingest's COPY, sort, upsert and WAL handle rows
about half as wide (`models.py`). Rows already stored keep their zeros, which read the same: sums skip
NULLs and readers take a NULL sum as 0. On PostgreSQL the table's fillfactor becomes 70 (for the pages
written from now on), so adding a batch to a stored row mostly finds room for the new version on the
row's own page (a HOT update: no new primary-key entry).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The measures as of this revision (spelled here, not imported: a later change to models.py must not
# change what this migration did).
_BUCKETS = 42
_COUNTERS = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "feedback_count",
    "positive_count",
    "score_count",
    "no_answer_count",
    "knowledge_requests",
    "human_request_count",
)
_MEASURES: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    *((name, sa.BigInteger()) for name in _COUNTERS),
    ("score_sum", sa.Float()),
    *((f"latency_{i:02d}", sa.Integer()) for i in range(_BUCKETS)),
    *((f"ttft_{i:02d}", sa.Integer()) for i in range(_BUCKETS)),
)
FILLFACTOR = 70


def _nullable(nullable: bool) -> None:
    # SQLite cannot drop NOT NULL in place: batch mode copies the table into a new one, rows included.
    with op.batch_alter_table("rollups") as batch:
        for name, kind in _MEASURES:
            batch.alter_column(name, existing_type=kind, nullable=nullable)


def upgrade() -> None:
    _nullable(True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE rollups SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rollups RESET (fillfactor)")
    op.execute("UPDATE rollups SET " + ", ".join(f"{name} = COALESCE({name}, 0)" for name, _ in _MEASURES))
    _nullable(False)
