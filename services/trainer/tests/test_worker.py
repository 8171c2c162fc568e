"""Training end to end over gRPC with real worker processes: success, invalid files, cancel, crashes."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import grpc
import pytest

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.artifacts import directory_sha256, local_path

pytestmark = pytest.mark.integration


async def create(trainer: Any, tenant: str, file_id: str, **fields: Any) -> pb.Job:
    """Creates a job on `file_id`."""
    request = pb.CreateJobRequest(tenant_id=tenant, training_file=file_id, **fields)
    return (await trainer.stub.CreateJob(request)).job


async def test_job_trains_registers_and_succeeds(
    trainer: Any, tenant: str, example_dataset: Path, adapter_registration: Any, rpc_error: Any
) -> None:
    file_id = (await trainer.register(tenant, example_dataset, "shop-support.jsonl")).dataset.file_id
    trainer.start_worker(TRAINER_CHECKPOINT_STEPS="5")
    job = await create(
        trainer, tenant, file_id, suffix="support", hyperparameters=pb.Hyperparameters(n_epochs=1)
    )
    job = await trainer.wait_job(tenant, job.id, ("succeeded", "failed", "cancelled"))
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model == f"ft:tuneway-tiny:{tenant}:support:{job.id}"
    assert job.trained_tokens > 0 and job.finished_at >= job.created_at and job.attempts == 1

    events = await trainer.events(tenant, job.id)
    metrics = [json.loads(e.data_json) for e in events if e.type == "metrics"]
    assert metrics and {"step", "total_steps", "train_loss", "learning_rate", "eta_seconds"} <= set(
        metrics[-1]
    )
    assert metrics[-1]["step"] == metrics[-1]["total_steps"] == job.validation_report.estimated_steps
    finished = [json.loads(e.data_json) for e in events if e.message.startswith("Training finished")]
    assert len(finished) == 1 and finished[0]["step"] == metrics[-1]["step"]
    assert job.created_at <= finished[0]["last_step_at"] <= job.finished_at + 1
    assert events[-1].message == "The job has successfully completed."
    assert any(e.level == "warn" and "registered" in e.message for e in events)  # no inference replica here
    assert [e.seq for e in events] == sorted(e.seq for e in events)

    checkpoints = (
        await trainer.stub.ListJobCheckpoints(pb.ListJobCheckpointsRequest(tenant_id=tenant, job_id=job.id))
    ).checkpoints
    steps = [c.step_number for c in checkpoints]
    assert steps == sorted(steps, reverse=True) and steps[-1] == 5
    assert checkpoints[0].fine_tuned_model_checkpoint == f"{job.fine_tuned_model}:ckpt-step-{steps[0]}"
    assert "train_loss" in checkpoints[0].metrics and local_path(checkpoints[0].artifact_uri).is_dir()

    version = (
        await trainer.stub.GetAdapterVersion(
            pb.GetAdapterVersionRequest(tenant_id=tenant, model=job.fine_tuned_model)
        )
    ).version
    assert (version.name, version.version, version.job_id, version.status) == ("support", 1, job.id, "active")
    assert version.sha256 == directory_sha256(local_path(version.artifact_uri))
    assert json.loads(version.hyperparameters_json)["lora"]["r" if False else "rank"] == 64
    registration = await adapter_registration(f"{tenant}.{job.id}")
    assert registration is not None
    assert (registration.model, registration.sha256, registration.artifact_uri) == (
        job.fine_tuned_model,
        version.sha256,
        version.artifact_uri,
    )
    error = await rpc_error(
        trainer.stub.GetAdapterVersion(
            pb.GetAdapterVersionRequest(tenant_id="other", model=job.fine_tuned_model)
        )
    )
    assert error.grpc_code == grpc.StatusCode.NOT_FOUND


async def test_watch_streams_every_event_until_the_end(
    trainer: Any, tenant: str, example_dataset: Path
) -> None:
    file_id = (await trainer.register(tenant, example_dataset)).dataset.file_id
    trainer.start_worker()
    job = await create(trainer, tenant, file_id, hyperparameters=pb.Hyperparameters(n_epochs=1))
    call = trainer.stub.WatchJobEvents(pb.WatchJobEventsRequest(tenant_id=tenant, job_id=job.id))
    streamed = [response.event async for response in call]
    assert streamed[-1].message == "The job has successfully completed."
    assert [e.id for e in streamed] == [e.id for e in await trainer.events(tenant, job.id)]
    later = trainer.stub.WatchJobEvents(
        pb.WatchJobEventsRequest(tenant_id=tenant, job_id=job.id, after_seq=streamed[-2].seq)
    )
    assert [r.event.id async for r in later] == [streamed[-1].id]


async def test_invalid_file_fails_and_trains_nothing(
    trainer: Any, tenant: str, chat_lines: Any, adapter_registration: Any
) -> None:
    bad = json.dumps(
        {"messages": [{"role": "wizard", "content": "hi"}, {"role": "assistant", "content": "x"}]}
    )
    file_id = (await trainer.register(tenant, chat_lines(12, bad))).dataset.file_id
    trainer.start_worker()
    job = await create(trainer, tenant, file_id)
    job = await trainer.wait_job(tenant, job.id, ("succeeded", "failed", "cancelled"))
    assert (job.status, job.error.code, job.error.param) == (
        "failed",
        "invalid_training_file",
        "training_file",
    )
    assert "line 3" in job.error.message and job.validation_report.errors[0].code == "unrecognized_role"
    assert not [e for e in await trainer.events(tenant, job.id) if e.type == "metrics"]
    assert not (trainer.data_dir / "artifacts" / "checkpoints" / tenant).exists()
    assert not (trainer.data_dir / "artifacts" / "adapters" / tenant).exists()
    assert await adapter_registration(f"{tenant}.{job.id}") is None


async def test_cancel_stops_a_running_job_at_its_next_step(
    trainer: Any, tenant: str, example_dataset: Path, adapter_registration: Any
) -> None:
    file_id = (await trainer.register(tenant, example_dataset)).dataset.file_id
    trainer.start_worker()
    job = await create(trainer, tenant, file_id, hyperparameters=pb.Hyperparameters(n_epochs=50))
    await trainer.wait_event(tenant, job.id, lambda e: e.type == "metrics")
    cancelled = (await trainer.stub.CancelJob(pb.CancelJobRequest(tenant_id=tenant, job_id=job.id))).job
    assert cancelled.status == "cancelled"
    stopped = await trainer.wait_event(
        tenant, job.id, lambda e: e.message.startswith("Training stopped"), within=30
    )
    assert stopped.created_at - cancelled.finished_at <= 3  # the next step boundary, not the end of training
    job = await trainer.wait_job(tenant, job.id, ("cancelled",))
    assert job.fine_tuned_model == "" and await adapter_registration(f"{tenant}.{job.id}") is None
    steps = [
        json.loads(e.data_json)["step"] for e in await trainer.events(tenant, job.id) if e.type == "metrics"
    ]
    assert max(steps) < job.validation_report.estimated_steps


@pytest.mark.faults
async def test_killed_worker_is_resumed_from_its_checkpoint_by_another(
    trainer: Any, tenant: str, example_dataset: Path, adapter_registration: Any
) -> None:
    file_id = (await trainer.register(tenant, example_dataset)).dataset.file_id
    first = trainer.start_worker(TRAINER_CHECKPOINT_STEPS="4")
    job = await create(
        trainer, tenant, file_id, suffix="resumed", hyperparameters=pb.Hyperparameters(n_epochs=3)
    )
    saved = await trainer.wait_event(tenant, job.id, lambda e: e.message.startswith("Checkpoint saved"))
    first.send_signal(signal.SIGKILL)
    first.wait()
    trainer.start_worker(TRAINER_CHECKPOINT_STEPS="4")
    job = await trainer.wait_job(tenant, job.id, ("succeeded", "failed", "cancelled"))
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    messages = [e.message for e in await trainer.events(tenant, job.id)]
    resumed = [m for m in messages if m.startswith("Resumed from checkpoint at step")]
    assert resumed and int(resumed[0].split()[-1].rstrip(".")) >= json.loads(saved.data_json)["step"]
    versions = (
        await trainer.stub.ListAdapterVersions(
            pb.ListAdapterVersionsRequest(tenant_id=tenant, include_retired=True)
        )
    ).versions
    assert [(v.job_id, v.version) for v in versions] == [(job.id, 1)]
    registration = await adapter_registration(f"{tenant}.{job.id}")
    assert registration is not None and registration.sha256 == versions[0].sha256


@pytest.mark.faults
async def test_a_job_whose_worker_keeps_dying_fails_with_the_reason(
    trainer: Any, tenant: str, example_dataset: Path
) -> None:
    file_id = (await trainer.register(tenant, example_dataset)).dataset.file_id
    first = trainer.start_worker(TRAINER_MAX_ATTEMPTS="1")
    job = await create(trainer, tenant, file_id, hyperparameters=pb.Hyperparameters(n_epochs=50))
    await trainer.wait_event(tenant, job.id, lambda e: e.type == "metrics")
    first.send_signal(signal.SIGKILL)
    first.wait()
    trainer.start_worker(TRAINER_MAX_ATTEMPTS="1")
    job = await trainer.wait_job(tenant, job.id, ("succeeded", "failed", "cancelled"), within=120)
    assert (job.status, job.error.code, job.attempts) == ("failed", "worker_crashed", 1)
    assert "stopped unexpectedly 1 times" in job.error.message
