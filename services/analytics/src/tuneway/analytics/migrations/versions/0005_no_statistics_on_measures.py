"""PostgreSQL gathers no planner statistics on the columns no query filters, joins or groups by.

ANALYZE (autovacuum's, or an operator's) samples every column of a table and builds its histogram and
most-common values. The rollups' 95 measures and the events' payload, texts and numbers are only ever
summed or read back, so their statistics guide no plan, yet they were most of ANALYZE's work: on the
ingest bench's 30-day store, ANALYZE of rollups took 0.35 s with them and 0.12 s without, paid every
time the growing tables are analyzed (bench/README.md). The keys, dimensions, times, experiment and
status keep theirs. SQLite has no per-column statistics target; nothing changes there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As of this revision (spelled here, not imported from models.py, so that this migration stays what it was).
_BUCKETS = 42
_ROLLUP_MEASURES = (
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
    "score_sum",
    *(f"latency_{i:02d}" for i in range(_BUCKETS)),
    *(f"ttft_{i:02d}" for i in range(_BUCKETS)),
)
UNFILTERED: dict[str, tuple[str, ...]] = {
    "rollups": _ROLLUP_MEASURES,
    "rollup_errors": ("errors",),
    "events": (
        "user",
        "conversation_id",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "time_to_first_token_ms",
        "knowledge_ran",
        "knowledge_no_answer",
        "payload",
        "message_text",
    ),
}


def _statistics_target(target: int) -> None:
    """Sets the columns' statistics target (-1: the server's default_statistics_target)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in UNFILTERED.items():
        clauses = ", ".join(f'ALTER COLUMN "{name}" SET STATISTICS {target}' for name in columns)
        op.execute(f'ALTER TABLE "{table}" {clauses}')


def upgrade() -> None:
    _statistics_target(0)


def downgrade() -> None:
    _statistics_target(-1)
