"""API keys that expire.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Adds api_keys.expires_at (unix seconds; null: the key never expires, as every key before)."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drops api_keys.expires_at."""
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
