"""Protobuf <-> domain values of the trainer API (no logic beyond field mapping)."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.trainer import domain as d

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

M = TypeVar("M", bound=Message)


def _message(kind: type[M], value: DataclassInstance, **converted: Any) -> M:
    """A `kind` message with the fields of `value` it has by the same name, and `converted` (fields
    whose proto type or name differs); fields the message does not have are left out."""
    names = kind.DESCRIPTOR.fields_by_name
    same = {
        field.name: getattr(value, field.name)
        for field in dataclasses.fields(value)
        if field.name in names and field.name not in converted
    }
    return kind(**same, **converted)


def _floats(metrics: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()}


def hyperparameters_from(m: pb.Hyperparameters) -> d.Hyperparameters:
    """Unset fields stay None ("auto")."""
    return d.Hyperparameters(
        n_epochs=m.n_epochs if m.HasField("n_epochs") else None,
        batch_size=m.batch_size if m.HasField("batch_size") else None,
        learning_rate_multiplier=m.learning_rate_multiplier
        if m.HasField("learning_rate_multiplier")
        else None,
    )


def hyperparameters_to(h: d.Hyperparameters) -> pb.Hyperparameters:
    """Only resolved numbers are set."""
    return pb.Hyperparameters(
        n_epochs=h.n_epochs, batch_size=h.batch_size, learning_rate_multiplier=h.learning_rate_multiplier
    )


def lora_from(m: pb.LoraConfig) -> d.LoraSpec:
    """The requested LoRA configuration."""
    return d.LoraSpec(
        rank=m.rank if m.HasField("rank") else None,
        alpha=m.alpha if m.HasField("alpha") else None,
        target_modules=tuple(m.target_modules),
        dropout=m.dropout if m.HasField("dropout") else None,
    )


def lora_to(l: d.LoraSpec) -> pb.LoraConfig:  # noqa: E741 - the proto's own name
    """The LoRA configuration a job or schedule uses."""
    return pb.LoraConfig(rank=l.rank, alpha=l.alpha, target_modules=list(l.target_modules), dropout=l.dropout)


def cleaning_from(m: pb.CleaningOptions) -> d.Cleaning:
    """Cleaning options."""
    return d.Cleaning(
        scrub_pii=m.scrub_pii, validation_split=m.validation_split if m.HasField("validation_split") else None
    )


def cleaning_to(c: d.Cleaning) -> pb.CleaningOptions:
    """Cleaning options."""
    return pb.CleaningOptions(scrub_pii=c.scrub_pii, validation_split=c.validation_split)


def _training_settings_from(m: pb.CreateJobRequest | pb.Schedule) -> dict[str, Any]:
    # The hyperparameters, LoRA configuration and cleaning options jobs and schedules share.
    return {
        "hyperparameters": hyperparameters_from(m.hyperparameters),
        "lora": lora_from(m.lora),
        "cleaning": cleaning_from(m.cleaning),
    }


def _training_settings_to(x: d.Job | d.Schedule) -> dict[str, Any]:
    return {
        "hyperparameters": hyperparameters_to(x.hyperparameters),
        "lora": lora_to(x.lora),
        "cleaning": cleaning_to(x.cleaning),
    }


def report_to(report: dict[str, Any]) -> pb.ValidationReport:
    """A report dict (field names of the proto message) as the message."""
    return json_format.ParseDict(report, pb.ValidationReport(), ignore_unknown_fields=True)


def dataset_from(m: pb.Dataset) -> d.Dataset:
    """A dataset the gateway registers."""
    return d.Dataset(m.file_id, m.tenant_id, m.filename, m.uri, m.sha256, m.bytes, m.created_at)


def dataset_to(x: d.Dataset) -> pb.Dataset:
    """A dataset."""
    return _message(pb.Dataset, x)


def job_spec_from(m: pb.CreateJobRequest) -> d.JobSpec:
    """What CreateJob asks for."""
    return d.JobSpec(
        tenant_id=m.tenant_id,
        training_file=m.training_file,
        model=m.model,
        validation_file=m.validation_file,
        suffix=m.suffix,
        seed=m.seed if m.HasField("seed") else None,
        method=m.method or "supervised",
        **_training_settings_from(m),
    )


def job_to(j: d.Job) -> pb.Job:
    """A job."""
    return _message(
        pb.Job,
        j,
        **_training_settings_to(j),
        error=_message(pb.JobError, j.error) if j.error is not None else None,
        validation_report=report_to(j.report) if j.report is not None else None,
    )


def event_to(e: d.JobEvent) -> pb.JobEvent:
    """A job event; data travels as a JSON object."""
    return _message(pb.JobEvent, e, data_json=json.dumps(e.data) if e.data is not None else "")


def checkpoint_to(c: d.Checkpoint) -> pb.Checkpoint:
    """A checkpoint."""
    return _message(
        pb.Checkpoint,
        c,
        step_number=c.step,
        metrics=_floats(c.metrics),
        fine_tuned_model_checkpoint=c.model,
    )


def version_to(v: d.AdapterVersion) -> pb.AdapterVersion:
    """An adapter version."""
    return _message(
        pb.AdapterVersion,
        v,
        hyperparameters_json=json.dumps(v.hyperparameters),
        metrics=_floats(v.metrics),
    )


def alias_to(a: d.AdapterAlias) -> pb.AdapterAlias:
    """An alias."""
    return _message(pb.AdapterAlias, a)


def schedule_from(m: pb.Schedule) -> d.Schedule:
    """A schedule as CreateSchedule asks for it (server-side fields are ignored)."""
    return d.Schedule(
        id="",
        tenant_id=m.tenant_id,
        cron=m.cron,
        training_file=m.training_file,
        training_filename=m.training_filename,
        model=m.model,
        suffix=m.suffix,
        **_training_settings_from(m),
        status=d.ACTIVE,
        created_at=0,
        next_run_at=0,
    )


def schedule_to(x: d.Schedule) -> pb.Schedule:
    """A schedule."""
    return _message(
        pb.Schedule,
        x,
        **_training_settings_to(x),
    )
