"""Protobuf <-> domain values of the trainer API (no logic beyond field mapping)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.trainer import domain as d


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


def report_to(report: dict[str, Any]) -> pb.ValidationReport:
    """A report dict (field names of the proto message) as the message."""
    return json_format.ParseDict(report, pb.ValidationReport(), ignore_unknown_fields=True)


def dataset_from(m: pb.Dataset) -> d.Dataset:
    """A dataset the gateway registers."""
    return d.Dataset(m.file_id, m.tenant_id, m.filename, m.uri, m.sha256, m.bytes, m.created_at)


def dataset_to(x: d.Dataset) -> pb.Dataset:
    """A dataset."""
    return pb.Dataset(
        file_id=x.file_id,
        tenant_id=x.tenant_id,
        filename=x.filename,
        uri=x.uri,
        sha256=x.sha256,
        bytes=x.bytes,
        created_at=x.created_at,
    )


def job_spec_from(m: pb.CreateJobRequest) -> d.JobSpec:
    """What CreateJob asks for."""
    return d.JobSpec(
        tenant_id=m.tenant_id,
        training_file=m.training_file,
        model=m.model,
        validation_file=m.validation_file,
        suffix=m.suffix,
        seed=m.seed if m.HasField("seed") else None,
        hyperparameters=hyperparameters_from(m.hyperparameters),
        method=m.method or "supervised",
        lora=lora_from(m.lora),
        cleaning=cleaning_from(m.cleaning),
    )


def job_to(j: d.Job) -> pb.Job:
    """A job."""
    message = pb.Job(
        id=j.id,
        tenant_id=j.tenant_id,
        model=j.model,
        fine_tuned_model=j.fine_tuned_model,
        status=j.status,
        training_file=j.training_file,
        validation_file=j.validation_file,
        hyperparameters=hyperparameters_to(j.hyperparameters),
        method=j.method,
        suffix=j.suffix,
        seed=j.seed,
        created_at=j.created_at,
        finished_at=j.finished_at,
        trained_tokens=j.trained_tokens,
        estimated_finish=j.estimated_finish,
        result_files=list(j.result_files),
        lora=lora_to(j.lora),
        cleaning=cleaning_to(j.cleaning),
        schedule_id=j.schedule_id,
        attempts=j.attempts,
    )
    if j.error is not None:
        message.error.CopyFrom(pb.JobError(code=j.error.code, message=j.error.message, param=j.error.param))
    if j.report is not None:
        message.validation_report.CopyFrom(report_to(j.report))
    return message


def event_to(e: d.JobEvent) -> pb.JobEvent:
    """A job event; data travels as a JSON object."""
    return pb.JobEvent(
        id=e.id,
        job_id=e.job_id,
        created_at=e.created_at,
        level=e.level,
        message=e.message,
        type=e.type,
        data_json=json.dumps(e.data) if e.data is not None else "",
        seq=e.seq,
    )


def checkpoint_to(c: d.Checkpoint) -> pb.Checkpoint:
    """A checkpoint."""
    return pb.Checkpoint(
        id=c.id,
        job_id=c.job_id,
        created_at=c.created_at,
        step_number=c.step,
        metrics={k: float(v) for k, v in c.metrics.items()},
        fine_tuned_model_checkpoint=c.model,
        artifact_uri=c.artifact_uri,
    )


def version_to(v: d.AdapterVersion) -> pb.AdapterVersion:
    """An adapter version."""
    return pb.AdapterVersion(
        model=v.model,
        tenant_id=v.tenant_id,
        name=v.name,
        version=v.version,
        base_model=v.base_model,
        job_id=v.job_id,
        dataset_sha256=v.dataset_sha256,
        hyperparameters_json=json.dumps(v.hyperparameters),
        metrics={k: float(x) for k, x in v.metrics.items()},
        artifact_uri=v.artifact_uri,
        sha256=v.sha256,
        status=v.status,
        created_at=v.created_at,
    )


def alias_to(a: d.AdapterAlias) -> pb.AdapterAlias:
    """An alias."""
    return pb.AdapterAlias(
        tenant_id=a.tenant_id,
        alias=a.alias,
        model=a.model,
        target=a.target,
        history=list(a.history),
        updated_at=a.updated_at,
    )


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
        hyperparameters=hyperparameters_from(m.hyperparameters),
        lora=lora_from(m.lora),
        cleaning=cleaning_from(m.cleaning),
        status="active",
        created_at=0,
        next_run_at=0,
    )


def schedule_to(x: d.Schedule) -> pb.Schedule:
    """A schedule."""
    return pb.Schedule(
        id=x.id,
        tenant_id=x.tenant_id,
        cron=x.cron,
        training_file=x.training_file,
        training_filename=x.training_filename,
        model=x.model,
        suffix=x.suffix,
        hyperparameters=hyperparameters_to(x.hyperparameters),
        lora=lora_to(x.lora),
        cleaning=cleaning_to(x.cleaning),
        status=x.status,
        created_at=x.created_at,
        next_run_at=x.next_run_at,
        last_run_at=x.last_run_at,
        last_job_id=x.last_job_id,
    )
