"""jobs.dispatched_at: when a queued job's work request was stored in the TRAINING stream.

A job accepted while NATS is down is queued in the database and published when NATS returns; the
column tells the API's dispatcher which queued jobs still need publishing. Jobs that left
validating_files before this revision were published on the way (the old code queued only after
publishing), so they are marked dispatched.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("dispatched_at", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE jobs SET dispatched_at = created_at WHERE status <> 'validating_files'")


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("dispatched_at")
