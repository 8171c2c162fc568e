"""Tables the trainer owns; every row carries its tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tuneway.core.db import service_metadata

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of the trainer's tables."""

    metadata = service_metadata()


class DatasetRow(Base):
    """A fine-tune file the gateway stored."""

    __tablename__ = "datasets"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(512))
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class JobRow(Base):
    """A fine-tuning job; JSON columns hold the requested and resolved settings."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    # Orders jobs newest first (created_at has one-second resolution).
    sort_key: Mapped[int] = mapped_column(BigInteger, index=True)
    model: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(32))
    training_file: Mapped[str] = mapped_column(String(64))
    validation_file: Mapped[str] = mapped_column(String(64), default="")
    suffix: Mapped[str] = mapped_column(String(64), default="")
    seed: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(32))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    lora: Mapped[dict[str, Any]] = mapped_column(JSON)
    cleaning: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    dataset_sha256: Mapped[str] = mapped_column(String(64), default="")
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    fine_tuned_model: Mapped[str] = mapped_column(String(512), default="")
    error_code: Mapped[str] = mapped_column(String(64), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    error_param: Mapped[str] = mapped_column(String(64), default="")
    trained_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    estimated_finish: Mapped[int] = mapped_column(BigInteger, default=0)
    result_files: Mapped[list[str]] = mapped_column(JSON)
    schedule_id: Mapped[str] = mapped_column(String(64), default="")
    # The schedule's fire time (Unix seconds) of a scheduled job: its Nats-Msg-Id is schedule + time.
    scheduled_for: Mapped[int] = mapped_column(BigInteger, default=0)
    # When the job's work request was stored in the TRAINING stream (0: queued here, not there yet,
    # e.g. while NATS is down); the API's dispatcher publishes every queued job that has none.
    dispatched_at: Mapped[int] = mapped_column(BigInteger, default=0)
    # Worker starts, and how many of them ended in a graceful hand-back (not a crash).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    handbacks: Mapped[int] = mapped_column(Integer, default=0)
    # The worker training the job now and its last heartbeat, so a duplicate delivery is recognised.
    worker_id: Mapped[str] = mapped_column(String(64), default="")
    heartbeat_at: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int] = mapped_column(BigInteger, default=0)
    finished_at: Mapped[int] = mapped_column(BigInteger, default=0)


class EventRow(Base):
    """One event of a job; `seq` orders a job's events and is the SSE cursor."""

    __tablename__ = "job_events"

    seq: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class CheckpointRow(Base):
    """A complete checkpoint of a job in the artifact store."""

    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("job_id", "step"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON)
    artifact_uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)


class AdapterVersionRow(Base):
    """A registered adapter; (tenant, name, version) numbers a family, one version per job."""

    __tablename__ = "adapter_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "name", "version"), UniqueConstraint("job_id"))

    model: Mapped[str] = mapped_column(String(512), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    base_model: Mapped[str] = mapped_column(String(256))
    job_id: Mapped[str] = mapped_column(String(64))
    dataset_sha256: Mapped[str] = mapped_column(String(64))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON)
    artifact_uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)


class AliasRow(Base):
    """A movable name for a version; `history` holds earlier targets, most recent first."""

    __tablename__ = "adapter_aliases"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(512))
    target: Mapped[str] = mapped_column(String(512))
    history: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ScheduleRow(Base):
    """A retraining schedule; `next_run_at` is the fire time replicas race for (0 while paused)."""

    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    cron: Mapped[str] = mapped_column(String(128))
    training_file: Mapped[str] = mapped_column(String(64), default="")
    training_filename: Mapped[str] = mapped_column(String(512), default="")
    model: Mapped[str] = mapped_column(String(256))
    suffix: Mapped[str] = mapped_column(String(64), default="")
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    lora: Mapped[dict[str, Any]] = mapped_column(JSON)
    cleaning: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    next_run_at: Mapped[int] = mapped_column(BigInteger, index=True)
    last_run_at: Mapped[int] = mapped_column(BigInteger, default=0)
    last_job_id: Mapped[str] = mapped_column(String(64), default="")
