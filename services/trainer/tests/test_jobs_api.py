"""Jobs through the gRPC API on SQLite and PostgreSQL: validation, queueing, paging, cancel, tenants."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from tuneway.api.trainer.v1 import trainer_pb2 as pb

pytestmark = pytest.mark.integration


@pytest.fixture
async def api(start_trainer: Callable[..., Awaitable[Any]], any_db_url: str) -> Any:
    """An API replica (no worker: jobs stop at queued) on SQLite or PostgreSQL."""
    return await start_trainer(any_db_url)


async def test_job_is_validated_then_queued_with_resolved_hyperparameters(
    api: Any, tenant: str, example_dataset: Path
) -> None:
    file_id = (await api.register(tenant, example_dataset, "shop-support.jsonl")).dataset.file_id
    created = (
        await api.stub.CreateJob(
            pb.CreateJobRequest(
                tenant_id=tenant, model="tuneway-tiny", training_file=file_id, suffix="support", seed=3
            )
        )
    ).job
    assert created.id.startswith("ftjob-") and created.status == "validating_files"
    assert not created.hyperparameters.HasField("n_epochs")  # "auto" until validated
    job = await api.wait_job(tenant, created.id, ("queued",), within=60)
    hp = job.hyperparameters
    assert hp.n_epochs > 0 and hp.batch_size > 0 and hp.learning_rate_multiplier == 1.0
    report = job.validation_report
    assert report.ok and report.format == "chat" and report.base_model == "tuneway-tiny"
    assert report.estimated_steps == hp.n_epochs * -(-report.train_examples // hp.batch_size)
    assert (job.lora.rank, len(job.lora.target_modules)) == (64, 7) and job.seed == 3
    messages = [e.message for e in await api.events(tenant, job.id)]
    assert messages[0].startswith("Validating training file") and "queued" in messages[-1]


async def test_invalid_file_fails_the_job_with_line_numbered_errors(
    api: Any, tenant: str, chat_lines: Callable[..., bytes]
) -> None:
    bad = json.dumps({"messages": [{"content": "hi"}, {"role": "assistant", "content": "x"}]})
    file_id = (await api.register(tenant, chat_lines(12, bad))).dataset.file_id
    created = (await api.stub.CreateJob(pb.CreateJobRequest(tenant_id=tenant, training_file=file_id))).job
    job = await api.wait_job(tenant, created.id, ("failed",), within=60)
    assert (job.error.code, job.error.param) == ("invalid_training_file", "training_file")
    assert "line 3" in job.error.message and not job.validation_report.ok
    assert [e.code for e in job.validation_report.errors] == ["message_missing_key"]
    assert job.fine_tuned_model == "" and job.trained_tokens == 0


async def test_validate_dataset_reports_without_training(
    api: Any, tenant: str, example_dataset: Path, chat_lines: Callable[..., bytes], rpc_error: Any
) -> None:
    good = (await api.register(tenant, example_dataset, "shop.jsonl")).dataset.file_id
    report = (
        await api.stub.ValidateDataset(
            pb.ValidateDatasetRequest(
                tenant_id=tenant, file_id=good, hyperparameters=pb.Hyperparameters(n_epochs=2, batch_size=6)
            )
        )
    ).report
    assert report.ok and report.examples >= 40 and report.tokens.total > 0
    assert report.estimated_steps == 2 * -(-report.train_examples // 6) and report.max_seq_length == 1024
    few = (await api.register(tenant, chat_lines(3))).dataset.file_id
    report = (await api.stub.ValidateDataset(pb.ValidateDatasetRequest(tenant_id=tenant, file_id=few))).report
    assert not report.ok and [e.code for e in report.errors] == ["too_few_examples"]
    assert report.estimated_steps == 0
    error = await rpc_error(
        api.stub.ValidateDataset(pb.ValidateDatasetRequest(tenant_id=tenant, file_id=good, model="gpt-4o"))
    )
    assert error.param == "model"


async def test_list_pages_newest_first(api: Any, tenant: str, chat_lines: Callable[..., bytes]) -> None:
    file_id = (await api.register(tenant, chat_lines(12))).dataset.file_id
    ids = []
    for _ in range(5):
        job = (await api.stub.CreateJob(pb.CreateJobRequest(tenant_id=tenant, training_file=file_id))).job
        ids.append(job.id)
    newest_first = list(reversed(ids))
    first = await api.stub.ListJobs(pb.ListJobsRequest(tenant_id=tenant, limit=2))
    assert [j.id for j in first.jobs] == newest_first[:2] and first.has_more
    rest = await api.stub.ListJobs(pb.ListJobsRequest(tenant_id=tenant, after=first.jobs[-1].id, limit=10))
    assert [j.id for j in rest.jobs] == newest_first[2:] and not rest.has_more
    await api.api.service.pipeline.idle()


async def test_cancel_before_training_and_after_the_end(
    api: Any, tenant: str, chat_lines: Callable[..., bytes], rpc_error: Any
) -> None:
    file_id = (await api.register(tenant, chat_lines(12))).dataset.file_id
    job = (await api.stub.CreateJob(pb.CreateJobRequest(tenant_id=tenant, training_file=file_id))).job
    await api.wait_job(tenant, job.id, ("queued",), within=60)
    cancelled = (await api.stub.CancelJob(pb.CancelJobRequest(tenant_id=tenant, job_id=job.id))).job
    assert cancelled.status == "cancelled" and cancelled.finished_at > 0
    error = await rpc_error(api.stub.CancelJob(pb.CancelJobRequest(tenant_id=tenant, job_id=job.id)))
    assert error.grpc_code == grpc.StatusCode.FAILED_PRECONDITION
    events = [e async for e in _watch(api, tenant, job.id)]  # ends: the job has ended
    assert events[-1].message == "Fine-tuning job cancelled."


async def _watch(api: Any, tenant: str, job_id: str) -> Any:
    call = api.stub.WatchJobEvents(pb.WatchJobEventsRequest(tenant_id=tenant, job_id=job_id))
    async for response in call:
        yield response.event


async def test_requests_are_checked(
    api: Any, tenant: str, chat_lines: Callable[..., bytes], rpc_error: Any
) -> None:
    file_id = (await api.register(tenant, chat_lines(12))).dataset.file_id
    cases = {
        "training_file": pb.CreateJobRequest(tenant_id=tenant, training_file="file-nope"),
        "model": pb.CreateJobRequest(tenant_id=tenant, training_file=file_id, model="llama-70b"),
        "suffix": pb.CreateJobRequest(tenant_id=tenant, training_file=file_id, suffix="Bad Suffix!"),
        "hyperparameters.n_epochs": pb.CreateJobRequest(
            tenant_id=tenant, training_file=file_id, hyperparameters=pb.Hyperparameters(n_epochs=0)
        ),
        "lora.rank": pb.CreateJobRequest(
            tenant_id=tenant, training_file=file_id, lora=pb.LoraConfig(rank=512)
        ),
        "lora.target_modules": pb.CreateJobRequest(
            tenant_id=tenant, training_file=file_id, lora=pb.LoraConfig(target_modules=["lm_head"])
        ),
        "tenant_id": pb.CreateJobRequest(tenant_id="", training_file=file_id),
    }
    for param, request in cases.items():
        error = await rpc_error(api.stub.CreateJob(request))
        assert (error.grpc_code, error.param) == (grpc.StatusCode.INVALID_ARGUMENT, param), param


async def test_another_tenant_sees_nothing(
    api: Any, tenant: str, chat_lines: Callable[..., bytes], rpc_error: Any
) -> None:
    file_id = (await api.register(tenant, chat_lines(12))).dataset.file_id
    job = (await api.stub.CreateJob(pb.CreateJobRequest(tenant_id=tenant, training_file=file_id))).job
    other = "intruder"
    for call in (
        api.stub.GetJob(pb.GetJobRequest(tenant_id=other, job_id=job.id)),
        api.stub.CancelJob(pb.CancelJobRequest(tenant_id=other, job_id=job.id)),
        api.stub.ListJobEvents(pb.ListJobEventsRequest(tenant_id=other, job_id=job.id)),
        api.stub.ListJobCheckpoints(pb.ListJobCheckpointsRequest(tenant_id=other, job_id=job.id)),
        api.stub.ValidateDataset(pb.ValidateDatasetRequest(tenant_id=other, file_id=file_id)),
    ):
        assert (await rpc_error(call)).grpc_code == grpc.StatusCode.NOT_FOUND
    assert (await api.stub.ListJobs(pb.ListJobsRequest(tenant_id=other))).jobs == []
    error = await rpc_error(api.stub.CreateJob(pb.CreateJobRequest(tenant_id=other, training_file=file_id)))
    assert error.param == "training_file"
    await api.stub.DeleteDataset(
        pb.DeleteDatasetRequest(tenant_id=other, file_id=file_id)
    )  # not theirs: no-op
    await api.wait_job(tenant, job.id, ("queued",), within=60)
    await api.stub.DeleteDataset(pb.DeleteDatasetRequest(tenant_id=tenant, file_id=file_id))
    error = await rpc_error(api.stub.CreateJob(pb.CreateJobRequest(tenant_id=tenant, training_file=file_id)))
    assert error.param == "training_file"


async def test_every_rpc_keyed_by_an_unknown_id_is_not_found(
    trainer: Any, tenant: str, rpc_error: Callable[[Awaitable[Any]], Awaitable[Any]]
) -> None:
    """What the gateway turns into its 404s: an id in a route's path that names nothing is NOT_FOUND,
    never INVALID_ARGUMENT (the code of a bad field in a request body). DeleteDataset is left out: it
    is idempotent, and the gateway answers 404 from its own files table before asking."""
    stub = trainer.stub
    model = f"ft:tuneway-tiny:{tenant}:support:ftjob-nope"

    async def watch() -> None:
        async for _ in stub.WatchJobEvents(pb.WatchJobEventsRequest(tenant_id=tenant, job_id="ftjob-nope")):
            pass

    calls = {
        "GetJob": stub.GetJob(pb.GetJobRequest(tenant_id=tenant, job_id="ftjob-nope")),
        "CancelJob": stub.CancelJob(pb.CancelJobRequest(tenant_id=tenant, job_id="ftjob-nope")),
        "ListJobEvents": stub.ListJobEvents(pb.ListJobEventsRequest(tenant_id=tenant, job_id="ftjob-nope")),
        "WatchJobEvents": watch(),
        "ListJobCheckpoints": stub.ListJobCheckpoints(
            pb.ListJobCheckpointsRequest(tenant_id=tenant, job_id="ftjob-nope")
        ),
        "ValidateDataset": stub.ValidateDataset(
            pb.ValidateDatasetRequest(tenant_id=tenant, file_id="file-nope")
        ),
        "GetAdapterVersion": stub.GetAdapterVersion(
            pb.GetAdapterVersionRequest(tenant_id=tenant, model=model)
        ),
        "RetireAdapterVersion": stub.RetireAdapterVersion(
            pb.RetireAdapterVersionRequest(tenant_id=tenant, model=model)
        ),
        "RollbackAdapterAlias": stub.RollbackAdapterAlias(
            pb.RollbackAdapterAliasRequest(tenant_id=tenant, alias="nope")
        ),
        "DeleteAdapterAlias": stub.DeleteAdapterAlias(
            pb.DeleteAdapterAliasRequest(tenant_id=tenant, alias="nope")
        ),
        "GetSchedule": stub.GetSchedule(pb.GetScheduleRequest(tenant_id=tenant, schedule_id="ftsched-nope")),
        "PauseSchedule": stub.PauseSchedule(
            pb.PauseScheduleRequest(tenant_id=tenant, schedule_id="ftsched-nope")
        ),
        "ResumeSchedule": stub.ResumeSchedule(
            pb.ResumeScheduleRequest(tenant_id=tenant, schedule_id="ftsched-nope")
        ),
        "DeleteSchedule": stub.DeleteSchedule(
            pb.DeleteScheduleRequest(tenant_id=tenant, schedule_id="ftsched-nope")
        ),
    }
    codes = {}
    for name, call in calls.items():
        try:
            codes[name] = type(await rpc_error(call)).__name__
        except AssertionError:
            codes[name] = "succeeded"
    assert codes == dict.fromkeys(calls, "NotFoundError")
