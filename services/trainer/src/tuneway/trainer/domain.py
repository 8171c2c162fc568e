"""Domain values of the trainer: jobs, events, checkpoints, datasets, adapters, aliases, schedules."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from tuneway.core.errors import InvalidArgumentError

VALIDATING, QUEUED, RUNNING = "validating_files", "queued", "running"
SUCCEEDED, FAILED, CANCELLED = "succeeded", "failed", "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
# Statuses of adapter versions (active, retired) and of schedules (active, paused).
ACTIVE, RETIRED, PAUSED = "active", "retired", "paused"

_SUFFIX = re.compile(r"^[a-z0-9_-]{1,40}$")
_ALIAS = re.compile(r"^[a-z0-9_-]{1,40}$")
_TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def new_id(prefix: str) -> str:
    """`<prefix>-<24 hex>`, the shape OpenAI's ids have."""
    return f"{prefix}-{secrets.token_hex(12)}"


def scheduled_job_id(schedule_id: str, fire_at: int) -> str:
    """The one job id a schedule's firing at `fire_at` gets, whichever replica fires it."""
    return "ftjob-" + hashlib.sha256(f"{schedule_id}@{fire_at}".encode()).hexdigest()[:24]


def check_tenant(tenant_id: str) -> str:
    """The tenant id, which KV keys and model names embed, so it must be a slug like the gateway's."""
    if not _TENANT.match(tenant_id or ""):
        raise InvalidArgumentError(
            "tenant_id is required and must match [a-z0-9][a-z0-9_-]{0,63}.", param="tenant_id"
        )
    return tenant_id


def check_suffix(suffix: str) -> str:
    """A job's suffix: up to 40 characters of [a-z0-9-_] (empty: none)."""
    if suffix and not _SUFFIX.match(suffix):
        raise InvalidArgumentError(
            "suffix must be at most 40 characters of lowercase letters, digits, '-' and '_'.", param="suffix"
        )
    return suffix


def check_alias(alias: str) -> str:
    """An alias name: [a-z0-9-_], at most 40 characters."""
    if not _ALIAS.match(alias or ""):
        raise InvalidArgumentError(
            "alias must be 1 to 40 characters of lowercase letters, digits, '-' and '_'.", param="alias"
        )
    return alias


def fine_tuned_model(base: str, tenant_id: str, suffix: str, job_id: str) -> str:
    """`ft:<base>:<tenant>:<suffix>:<job id>` (empty suffix as OpenAI writes it)."""
    return f"ft:{base}:{tenant_id}:{suffix}:{job_id}"


def alias_model(base: str, tenant_id: str, alias: str) -> str:
    """The model name an alias is served as."""
    return f"ft:{base}:{tenant_id}:{alias}"


def version_key(tenant_id: str, job_id: str) -> str:
    """ADAPTERS key of a version."""
    return f"{tenant_id}.{job_id}"


def alias_key(tenant_id: str, alias: str) -> str:
    """ADAPTERS key of an alias."""
    return f"{tenant_id}.alias.{alias}"


@dataclass(frozen=True)
class Hyperparameters:
    """OpenAI's hyperparameters; None means "auto" until resolved."""

    n_epochs: int | None = None
    batch_size: int | None = None
    learning_rate_multiplier: float | None = None


@dataclass(frozen=True)
class LoraSpec:
    """LoRA configuration (None / empty: the trainer's default)."""

    rank: int | None = None
    alpha: int | None = None
    target_modules: tuple[str, ...] = ()
    dropout: float | None = None


@dataclass(frozen=True)
class Cleaning:
    """Cleaning options of a dataset."""

    scrub_pii: bool = False
    validation_split: float | None = None


@dataclass(frozen=True)
class JobError:
    """Why a job failed, in OpenAI's shape."""

    code: str
    message: str
    param: str = ""


@dataclass(frozen=True)
class Dataset:
    """A fine-tune file the gateway stored and the trainer knows."""

    file_id: str
    tenant_id: str
    filename: str
    uri: str
    sha256: str
    bytes: int
    created_at: int


@dataclass(frozen=True)
class JobSpec:
    """What a client asks to train."""

    tenant_id: str
    training_file: str
    model: str = ""
    validation_file: str = ""
    suffix: str = ""
    seed: int | None = None
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    method: str = "supervised"
    lora: LoraSpec = field(default_factory=LoraSpec)
    cleaning: Cleaning = field(default_factory=Cleaning)


@dataclass(frozen=True)
class Job:
    """A fine-tuning job as clients see it."""

    id: str
    tenant_id: str
    model: str
    status: str
    training_file: str
    validation_file: str
    suffix: str
    seed: int
    method: str
    hyperparameters: Hyperparameters
    lora: LoraSpec
    cleaning: Cleaning
    created_at: int
    finished_at: int = 0
    fine_tuned_model: str = ""
    trained_tokens: int = 0
    estimated_finish: int = 0
    error: JobError | None = None
    # The validation report as a dict mirroring the proto message (None until validated).
    report: dict[str, Any] | None = None
    result_files: tuple[str, ...] = ()
    schedule_id: str = ""
    attempts: int = 0


@dataclass(frozen=True)
class JobEvent:
    """One event of a job; metrics events carry their numbers in `data`."""

    id: str
    job_id: str
    seq: int
    created_at: int
    level: str
    type: str
    message: str
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Checkpoint:
    """A saved training state of a job."""

    id: str
    job_id: str
    created_at: int
    step: int
    metrics: dict[str, float]
    model: str
    artifact_uri: str


@dataclass(frozen=True)
class AdapterVersion:
    """One registered adapter of a tenant's family."""

    model: str
    tenant_id: str
    name: str
    version: int
    base_model: str
    job_id: str
    dataset_sha256: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, float]
    artifact_uri: str
    sha256: str
    status: str
    created_at: int


@dataclass(frozen=True)
class AdapterAlias:
    """A movable name for one adapter version."""

    tenant_id: str
    alias: str
    model: str
    target: str
    history: tuple[str, ...]
    updated_at: int


@dataclass(frozen=True)
class Schedule:
    """A cron-driven retraining plan."""

    id: str
    tenant_id: str
    cron: str
    training_file: str
    training_filename: str
    model: str
    suffix: str
    hyperparameters: Hyperparameters
    lora: LoraSpec
    cleaning: Cleaning
    status: str
    created_at: int
    next_run_at: int
    last_run_at: int = 0
    last_job_id: str = ""
