"""Daily rollup rows are folded from closed hours by a periodic job instead of written per batch.

`rollup_folds` holds how far the daily rows reach. A store migrated with data already has complete
daily rows for every day it has seen (they were written with every batch until now), so it starts as
folded up to the end of its latest daily row; an empty store starts with nothing folded.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY_MS = 86_400_000


def upgrade() -> None:
    op.create_table(
        "rollup_folds",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("folded_until_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_folds")),
    )
    op.execute(
        "INSERT INTO rollup_folds (id, folded_until_ms)"
        f" SELECT 1, COALESCE(MAX(bucket_start_ms) + {DAY_MS}, 0) FROM rollups WHERE period_ms = {DAY_MS}"
    )


def downgrade() -> None:
    # Days not folded yet would have no daily rows under the old code: fold them first (rollup_folding).
    op.drop_table("rollup_folds")
