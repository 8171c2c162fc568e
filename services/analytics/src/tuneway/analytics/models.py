"""Tables the analytics service owns; every row carries its tenant.

`events` keeps raw completion events (for drill-down, experiments and summaries too wide for the
rollups; deleted after the retention); `feedback` the latest judgement per (tenant, completion, user);
`rollups` adds events up per tenant, dimension set (`dimension_sets.py`: the set's id and its one or two
values), hour and day; `rollup_errors` their errors by code; `rollup_folds` how far the daily rows are
folded from the hourly ones (`rollup_folding.py`). The histogram columns `latency_00..` and
`ttft_00..` are the buckets of `histogram.py`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tuneway.analytics.domain import DIMENSIONS
from tuneway.analytics.histogram import BUCKETS
from tuneway.core.db import service_metadata


class Base(DeclarativeBase):
    """Declarative base of the analytics service's tables."""

    metadata = service_metadata()


def _dimension_columns() -> list[Column[Any]]:
    # "" means "none", as in the rollups' value columns.
    return [Column(name, String(256), nullable=False) for name in DIMENSIONS]


events = Table(
    "events",
    Base.metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("created_at_ms", BigInteger, nullable=False),
    *_dimension_columns(),
    Column("experiment_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_code", String(128), nullable=False),
    Column("user", String(256), nullable=False),
    Column("conversation_id", String(256), nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("time_to_first_token_ms", Float, nullable=False),
    Column("knowledge_ran", Boolean, nullable=False),
    Column("knowledge_no_answer", Boolean, nullable=False),
    # The CompletionEvent as received, its last user message removed (message_text holds the kept,
    # scrubbed one when the tenant asked for it).
    Column("payload", LargeBinary, nullable=False),
    Column("message_text", Text, nullable=True),
    Index("ix_events_drill_down", "tenant_id", "created_at_ms", "request_id"),
    # experiment_id first: a lookup by (tenant_id, request_id) must never find this index attractive.
    Index("ix_events_experiment", "experiment_id", "tenant_id"),
)

feedback = Table(
    "feedback",
    Base.metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("completion_id", String(128), primary_key=True),
    Column("user", String(256), primary_key=True),
    Column("feedback_id", String(128), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("scale", String(8), nullable=False),
    Column("label", String(256), nullable=False),
    Column("comment", Text, nullable=False),
    Column("api_key_id", String(64), nullable=False),
)

COUNTERS: tuple[str, ...] = (
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
LATENCY_COLUMNS = tuple(f"latency_{i:02d}" for i in range(BUCKETS))
TTFT_COLUMNS = tuple(f"ttft_{i:02d}" for i in range(BUCKETS))
# Every column a rollup adds up, in the order the summaries read them.
ADDITIVE: tuple[str, ...] = (*COUNTERS, "score_sum", *LATENCY_COLUMNS, *TTFT_COLUMNS)
ROLLUP_KEY: tuple[str, ...] = (
    "tenant_id",
    "dimension_set",
    "period_ms",
    "bucket_start_ms",
    "first_value",
    "second_value",
)


def _rollup_key() -> list[Column[Any]]:
    return [
        Column("tenant_id", String(64), primary_key=True),
        # An index into dimension_sets.DIMENSION_SETS.
        Column("dimension_set", SmallInteger, primary_key=True),
        # 3_600_000 (hourly rows) or 86_400_000 (daily rows, read for whole days)
        Column("period_ms", Integer, primary_key=True),
        Column("bucket_start_ms", BigInteger, primary_key=True),
        # The set's dimension values in DIMENSIONS' order; "" where the set has fewer than two.
        Column("first_value", String(256), primary_key=True),
        Column("second_value", String(256), primary_key=True),
    ]


ROLLUPS_FILLFACTOR = 70
# The order of a written rollup row (rollup_batch.RollupRow): the key, then the integers, then the sum.
ROLLUP_MEASURES: tuple[str, ...] = (*COUNTERS, *LATENCY_COLUMNS, *TTFT_COLUMNS, "score_sum")
ROLLUP_WRITE_COLUMNS: tuple[str, ...] = (*ROLLUP_KEY, *ROLLUP_MEASURES)
ERROR_WRITE_COLUMNS: tuple[str, ...] = (*ROLLUP_KEY, "error_code", "errors")

# A measure's NULL means 0 (migration 0004): most of a row's 95 measures are zero (a histogram bucket
# that no request of the row fell in, feedback counts of rows without feedback), and PostgreSQL keeps a
# NULL as one bit of the row's null bitmap, where it writes 4 or 8 bytes for a 0: about half as wide
# (500 -> 263 bytes a row on the ingest bench's live stream), less to COPY, sort, write and log. Sums
# skip NULLs; a sum of NULLs only is NULL, which readers take as 0. The writer leaves zeros as 0 on
# SQLite (RollupBatch.rows: no bytes to save there, and NULLs slowed its ingest); either reads the same.
# A fillfactor of 70 leaves room on each page, so the next batch's addition to a row is a HOT update
# (the new version on the same page, no new index entry) rather than a new PRIMARY KEY entry.
rollups = Table(
    "rollups",
    Base.metadata,
    *_rollup_key(),
    *(Column(name, BigInteger, nullable=True) for name in COUNTERS),
    Column("score_sum", Float, nullable=True),
    *(Column(name, Integer, nullable=True) for name in (*LATENCY_COLUMNS, *TTFT_COLUMNS)),
    postgresql_with={"fillfactor": ROLLUPS_FILLFACTOR},
)

rollup_errors = Table(
    "rollup_errors",
    Base.metadata,
    *_rollup_key(),
    Column("error_code", String(128), primary_key=True),
    Column("errors", BigInteger, nullable=False),
)


# One row (id 1): the days that start before `folded_until_ms` have daily rollup rows (folded from their
# closed hours, then added to by any late event); later days have hourly rows only, and summaries read
# their hours instead.
rollup_folds = Table(
    "rollup_folds",
    Base.metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("folded_until_ms", BigInteger, nullable=False),
)
FOLDS_ROW = 1


class QueryTypeRow(Base):
    """A tenant's own query type (a default's name replaces that default for the tenant)."""

    __tablename__ = "query_types"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    examples: Mapped[list[str]] = mapped_column(JSON)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class TenantSettingsRow(Base):
    """A tenant's analytics settings; no row means the defaults."""

    __tablename__ = "tenant_settings"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    keep_message_text: Mapped[bool] = mapped_column(Boolean, default=False)
