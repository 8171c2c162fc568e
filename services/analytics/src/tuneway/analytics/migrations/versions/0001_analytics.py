"""Raw events, feedback, hourly and daily rollups per dimension set, query types, tenant settings.

Revision ID: 0001
Revises:
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the package's constants as this revision created them.
DIMENSIONS = (
    "query_type",
    "channel",
    "language",
    "model",
    "adapter",
    "assistant",
    "prompt_version",
    "variant",
    "experiment_arm",
    "kind",
    "endpoint",
)
COUNTERS = (
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
BUCKETS = 42


def _dimensions() -> list[sa.Column[str]]:
    return [sa.Column(name, sa.String(256), nullable=False) for name in DIMENSIONS]


ROLLUP_KEY = ("tenant_id", "dimension_set", "period_ms", "bucket_start_ms", "first_value", "second_value")


def _rollup_key() -> list[sa.Column[int] | sa.Column[str]]:
    return [
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("dimension_set", sa.SmallInteger(), nullable=False),
        sa.Column("period_ms", sa.Integer(), nullable=False),
        sa.Column("bucket_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_value", sa.String(256), nullable=False),
        sa.Column("second_value", sa.String(256), nullable=False),
    ]


def upgrade() -> None:
    """Creates the analytics tables."""
    op.create_table(
        "events",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        *_dimensions(),
        sa.Column("experiment_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(128), nullable=False),
        sa.Column("user", sa.String(256), nullable=False),
        sa.Column("conversation_id", sa.String(256), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("time_to_first_token_ms", sa.Float(), nullable=False),
        sa.Column("knowledge_ran", sa.Boolean(), nullable=False),
        sa.Column("knowledge_no_answer", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("message_text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "request_id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_drill_down", "events", ["tenant_id", "created_at_ms", "request_id"])
    op.create_index("ix_events_experiment", "events", ["tenant_id", "experiment_id"])
    op.create_table(
        "feedback",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("completion_id", sa.String(128), nullable=False),
        sa.Column("user", sa.String(256), nullable=False),
        sa.Column("feedback_id", sa.String(128), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("scale", sa.String(8), nullable=False),
        sa.Column("label", sa.String(256), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("api_key_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "completion_id", "user", name=op.f("pk_feedback")),
    )
    op.create_table(
        "rollups",
        *_rollup_key(),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTERS),
        sa.Column("score_sum", sa.Float(), nullable=False),
        *(sa.Column(f"latency_{i:02d}", sa.Integer(), nullable=False) for i in range(BUCKETS)),
        *(sa.Column(f"ttft_{i:02d}", sa.Integer(), nullable=False) for i in range(BUCKETS)),
        sa.PrimaryKeyConstraint(*ROLLUP_KEY, name=op.f("pk_rollups")),
    )
    op.create_table(
        "rollup_errors",
        *_rollup_key(),
        sa.Column("error_code", sa.String(128), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*ROLLUP_KEY, "error_code", name=op.f("pk_rollup_errors")),
    )
    op.create_table(
        "query_types",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_query_types")),
    )
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("keep_message_text", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_settings")),
    )


def downgrade() -> None:
    """Drops the analytics tables."""
    for table in ("tenant_settings", "query_types", "rollup_errors", "rollups", "feedback", "events"):
        op.drop_table(table)
