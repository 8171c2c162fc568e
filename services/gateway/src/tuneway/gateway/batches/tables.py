"""The tables of batches and of their lines' results (which let a redelivered batch resume)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tuneway.gateway.tenancy.tables import Base


class Batch(Base):
    """An OpenAI batch: its request, its status with the time of each step, and its counts."""

    __tablename__ = "batches"
    __table_args__ = (
        Index("ix_batches_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_batches_dispatched_at", "dispatched_at"),
    )

    # batch_<24 hex>, OpenAI's shape.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    # The key that created it: its lines are attributed to it (analytics), as HTTP requests are.
    api_key_id: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(64))
    input_file_id: Mapped[str] = mapped_column(String(64))
    completion_window: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    batch_metadata: Mapped[dict[str, str] | None] = mapped_column("metadata", JSON, default=None)
    model: Mapped[str | None] = mapped_column(String(256), default=None)
    output_file_id: Mapped[str | None] = mapped_column(String(64), default=None)
    error_file_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # OpenAI's errors.data: the input file's line-numbered validation errors.
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    total: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    in_progress_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    finalizing_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    completed_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    failed_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    expired_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cancelling_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cancelled_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # When batches.requested was stored by JetStream; null: the dispatcher still has to publish it.
    dispatched_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # The worker running it and its last heartbeat: a duplicate delivery leaves a live worker alone.
    worker_id: Mapped[str] = mapped_column(String(64), default="")
    heartbeat_at: Mapped[float] = mapped_column(Float, default=0.0)


class BatchLine(Base):
    """One input line's result, written as soon as it is known: the line of the output or error file."""

    __tablename__ = "batch_lines"

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    # 1-based line number in the input file.
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    failed: Mapped[bool] = mapped_column(Boolean)
    # The JSON line as it goes into the output (or error) file.
    output: Mapped[str] = mapped_column(Text)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
