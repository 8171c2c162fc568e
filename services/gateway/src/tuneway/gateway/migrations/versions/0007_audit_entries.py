"""The audit log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Creates audit_entries, listed per tenant newest first (by seq)."""
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("actor_key_id", sa.String(64), nullable=False),
        sa.Column("actor_key_name", sa.String(256), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(1024), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_entries_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_entries_id")),
    )
    op.create_index("ix_audit_entries_tenant_id_seq", "audit_entries", ["tenant_id", "seq"])


def downgrade() -> None:
    """Drops audit_entries."""
    op.drop_index("ix_audit_entries_tenant_id_seq", table_name="audit_entries")
    op.drop_table("audit_entries")
