"""Per-minute rate limits of tenants and API keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("tenants", "api_keys")
_COLUMNS = ("requests_per_minute", "tokens_per_minute")


def upgrade() -> None:
    """Adds nullable quota columns (null: no limit) to tenants and api_keys."""
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            for column in _COLUMNS:
                batch.add_column(sa.Column(column, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drops the quota columns."""
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            for column in _COLUMNS:
                batch.drop_column(column)
