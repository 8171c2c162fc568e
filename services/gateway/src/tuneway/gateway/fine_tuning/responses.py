"""Trainer messages as API objects: OpenAI's fine_tuning.job, .event and .checkpoint, plus extensions."""

from __future__ import annotations

from typing import (
    Any,
    Literal,
    NotRequired,  # pydantic documents typing.TypedDict only from 3.12
)

import orjson
from typing_extensions import TypedDict

from tuneway.api.trainer.v1 import trainer_pb2 as pb

_FINISHED = ("succeeded", "failed", "cancelled")


Auto = Literal["auto"]


class HyperparametersObject(TypedDict):
    """Resolved numbers, or "auto" where the trainer has not resolved them yet."""

    batch_size: int | Auto
    learning_rate_multiplier: float | Auto
    n_epochs: int | Auto


class LoraObject(TypedDict):
    """LoRA rank, alpha, target modules and dropout (null: the trainer's default, not resolved yet)."""

    rank: int | None
    alpha: int | None
    target_modules: list[str] | None
    dropout: float | None


class CleaningObject(TypedDict):
    scrub_pii: bool
    validation_split: float | None


class ValidationIssue(TypedDict):
    line: int
    code: str
    message: str


class TokenStats(TypedDict):
    total: int
    min: int
    max: int
    mean: float
    p50: int
    p95: int


class ValidationReport(TypedDict):
    """A dataset's cleaning and validation report (tuneway extension); `file_id` when a file was validated."""

    file_id: NotRequired[str]
    object: Literal["fine_tuning.validation_report"]
    ok: bool
    format: str
    base_model: str
    lines: int
    examples: int
    train_examples: int
    validation_examples: int
    duplicates_removed: int
    pii_redactions: int
    truncated: int
    max_seq_length: int
    estimated_steps: int
    tokens: TokenStats
    errors: list[ValidationIssue]
    warnings: list[ValidationIssue]


class JobError(TypedDict):
    code: str
    message: str
    param: str | None


class FineTuningJob(TypedDict):
    """OpenAI's `fine_tuning.job`; tuneway's extensions follow OpenAI's fields."""

    id: str
    object: Literal["fine_tuning.job"]
    created_at: int
    error: JobError | None
    fine_tuned_model: str | None
    finished_at: int | None
    hyperparameters: HyperparametersObject
    model: str
    organization_id: str
    result_files: list[str]
    seed: int
    status: str
    trained_tokens: int | None
    training_file: str
    validation_file: str | None
    estimated_finish: int | None
    integrations: list[Any]
    metadata: None
    method: dict[str, Any]
    user_provided_suffix: str | None
    suffix: str | None
    lora: LoraObject
    cleaning: CleaningObject
    validation_report: ValidationReport | None
    attempts: int
    schedule_id: str | None


class JobEvent(TypedDict):
    """OpenAI's `fine_tuning.job.event`; metrics events carry their numbers in `data`."""

    id: str
    object: Literal["fine_tuning.job.event"]
    created_at: int
    level: str
    message: str
    data: Any
    type: str


class JobCheckpoint(TypedDict):
    """OpenAI's `fine_tuning.job.checkpoint`."""

    id: str
    object: Literal["fine_tuning.job.checkpoint"]
    created_at: int
    fine_tuned_model_checkpoint: str
    fine_tuning_job_id: str
    metrics: dict[str, float]
    step_number: int


class AdapterVersion(TypedDict):
    """An adapter version in the registry (tuneway extension): its lineage and metrics."""

    id: str
    object: Literal["fine_tuning.adapter"]
    model: str
    name: str
    version: int
    base_model: str
    fine_tuning_job_id: str
    dataset_sha256: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, float]
    sha256: str
    status: str
    created_at: int


class AdapterAlias(TypedDict):
    """An alias that points at an adapter version (tuneway extension), with its earlier targets."""

    id: str
    object: Literal["fine_tuning.alias"]
    alias: str
    model: str
    target: str
    history: list[str]
    updated_at: int


class Schedule(TypedDict):
    """A retraining schedule (tuneway extension)."""

    id: str
    object: Literal["fine_tuning.schedule"]
    cron: str
    training_file: str | None
    training_filename: str | None
    model: str
    suffix: str | None
    hyperparameters: HyperparametersObject
    lora: LoraObject
    cleaning: CleaningObject
    status: str
    created_at: int
    next_run_at: int | None
    last_run_at: int | None
    last_job_id: str | None


def _or_none(value: Any) -> Any:
    """Proto3 leaves unset scalars at their zero value; OpenAI sends null for those."""
    return value if value else None


def hyperparameters_object(hp: pb.Hyperparameters) -> HyperparametersObject:
    """Resolved numbers, or "auto" where the trainer has not resolved them yet."""
    return {
        "batch_size": hp.batch_size if hp.HasField("batch_size") else "auto",
        "learning_rate_multiplier": (
            hp.learning_rate_multiplier if hp.HasField("learning_rate_multiplier") else "auto"
        ),
        "n_epochs": hp.n_epochs if hp.HasField("n_epochs") else "auto",
    }


def lora_object(lora: pb.LoraConfig) -> LoraObject:
    """The LoRA configuration (null where the trainer's default applies and is not resolved yet)."""
    return {
        "rank": lora.rank if lora.HasField("rank") else None,
        "alpha": lora.alpha if lora.HasField("alpha") else None,
        "target_modules": list(lora.target_modules) or None,
        "dropout": lora.dropout if lora.HasField("dropout") else None,
    }


def cleaning_object(cleaning: pb.CleaningOptions) -> CleaningObject:
    """The cleaning options."""
    return {
        "scrub_pii": cleaning.scrub_pii,
        "validation_split": cleaning.validation_split if cleaning.HasField("validation_split") else None,
    }


def _issue(issue: pb.ValidationIssue) -> ValidationIssue:
    return {"line": issue.line, "code": issue.code, "message": issue.message}


def report_object(report: pb.ValidationReport, file_id: str = "") -> ValidationReport:
    """A dataset's validation report (tuneway extension)."""
    tokens = report.tokens
    body: ValidationReport = {
        "object": "fine_tuning.validation_report",
        "ok": report.ok,
        "format": report.format,
        "base_model": report.base_model,
        "lines": report.lines,
        "examples": report.examples,
        "train_examples": report.train_examples,
        "validation_examples": report.validation_examples,
        "duplicates_removed": report.duplicates_removed,
        "pii_redactions": report.pii_redactions,
        "truncated": report.truncated,
        "max_seq_length": report.max_seq_length,
        "estimated_steps": report.estimated_steps,
        "tokens": {
            "total": tokens.total,
            "min": tokens.min,
            "max": tokens.max,
            "mean": tokens.mean,
            "p50": tokens.p50,
            "p95": tokens.p95,
        },
        "errors": [_issue(i) for i in report.errors],
        "warnings": [_issue(i) for i in report.warnings],
    }
    if file_id:
        body = {"file_id": file_id, **body}
    return body


def job_object(job: pb.Job) -> FineTuningJob:
    """OpenAI's `fine_tuning.job`, with tuneway's extensions after OpenAI's fields."""
    hyperparameters = hyperparameters_object(job.hyperparameters)
    finished = job.status in _FINISHED
    error: JobError | None = None
    if job.HasField("error") and (job.error.code or job.error.message):
        error = {"code": job.error.code, "message": job.error.message, "param": _or_none(job.error.param)}
    method = job.method or "supervised"
    return {
        "id": job.id,
        "object": "fine_tuning.job",
        "created_at": job.created_at,
        "error": error,
        "fine_tuned_model": _or_none(job.fine_tuned_model),
        "finished_at": _or_none(job.finished_at) if finished else None,
        "hyperparameters": hyperparameters,
        "model": job.model,
        "organization_id": job.tenant_id,
        "result_files": list(job.result_files),
        "seed": job.seed,
        "status": job.status,
        "trained_tokens": job.trained_tokens if finished and job.trained_tokens else None,
        "training_file": job.training_file,
        "validation_file": _or_none(job.validation_file),
        "estimated_finish": None if finished else _or_none(job.estimated_finish),
        "integrations": [],
        "metadata": None,
        "method": {"type": method, method: {"hyperparameters": hyperparameters}},
        "user_provided_suffix": _or_none(job.suffix),
        # tuneway extensions
        "suffix": _or_none(job.suffix),
        "lora": lora_object(job.lora),
        "cleaning": cleaning_object(job.cleaning),
        "validation_report": report_object(job.validation_report)
        if job.HasField("validation_report")
        else None,
        "attempts": job.attempts,
        "schedule_id": _or_none(job.schedule_id),
    }


def event_object(event: pb.JobEvent) -> JobEvent:
    """OpenAI's `fine_tuning.job.event`; metrics events carry their numbers in `data`."""
    data = orjson.loads(event.data_json) if event.data_json else None
    return {
        "id": event.id,
        "object": "fine_tuning.job.event",
        "created_at": event.created_at,
        "level": event.level or "info",
        "message": event.message,
        "data": data,
        "type": event.type or "message",
    }


def checkpoint_object(checkpoint: pb.Checkpoint) -> JobCheckpoint:
    """OpenAI's `fine_tuning.job.checkpoint`."""
    return {
        "id": checkpoint.id,
        "object": "fine_tuning.job.checkpoint",
        "created_at": checkpoint.created_at,
        "fine_tuned_model_checkpoint": checkpoint.fine_tuned_model_checkpoint,
        "fine_tuning_job_id": checkpoint.job_id,
        "metrics": {"step": float(checkpoint.step_number), **dict(checkpoint.metrics)},
        "step_number": checkpoint.step_number,
    }


def adapter_version_object(version: pb.AdapterVersion) -> AdapterVersion:
    """An adapter version in the registry (tuneway extension); artifact paths stay server-side."""
    return {
        "id": version.model,
        "object": "fine_tuning.adapter",
        "model": version.model,
        "name": version.name,
        "version": version.version,
        "base_model": version.base_model,
        "fine_tuning_job_id": version.job_id,
        "dataset_sha256": version.dataset_sha256,
        "hyperparameters": orjson.loads(version.hyperparameters_json) if version.hyperparameters_json else {},
        "metrics": dict(version.metrics),
        "sha256": version.sha256,
        "status": version.status,
        "created_at": version.created_at,
    }


def alias_object(alias: pb.AdapterAlias) -> AdapterAlias:
    """An adapter alias (tuneway extension)."""
    return {
        "id": alias.alias,
        "object": "fine_tuning.alias",
        "alias": alias.alias,
        "model": alias.model,
        "target": alias.target,
        "history": list(alias.history),
        "updated_at": alias.updated_at,
    }


def schedule_object(schedule: pb.Schedule) -> Schedule:
    """A retraining schedule (tuneway extension)."""
    return {
        "id": schedule.id,
        "object": "fine_tuning.schedule",
        "cron": schedule.cron,
        "training_file": _or_none(schedule.training_file),
        "training_filename": _or_none(schedule.training_filename),
        "model": schedule.model,
        "suffix": _or_none(schedule.suffix),
        "hyperparameters": hyperparameters_object(schedule.hyperparameters),
        "lora": lora_object(schedule.lora),
        "cleaning": cleaning_object(schedule.cleaning),
        "status": schedule.status,
        "created_at": schedule.created_at,
        "next_run_at": _or_none(schedule.next_run_at),
        "last_run_at": _or_none(schedule.last_run_at),
        "last_job_id": _or_none(schedule.last_job_id),
    }
