"""The experiment index leads with experiment_id, so the planner never probes it for an event by id.

With the tenant first, (tenant_id, experiment_id) tied with the primary key for a lookup by
(tenant_id, request_id) while a table had no statistics, and the planner could scan all of a tenant's
events once per id looked up.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_events_experiment", table_name="events")
    op.create_index("ix_events_experiment", "events", ["experiment_id", "tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_events_experiment", table_name="events")
    op.create_index("ix_events_experiment", "events", ["tenant_id", "experiment_id"])
