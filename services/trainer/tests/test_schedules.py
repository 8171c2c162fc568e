"""Retraining schedules over gRPC, fired by driving the scheduler's tick with explicit times.

The API replicas run without their background scheduler (the fixture starts them with
scheduler=False), so a firing happens only when a test calls `tick(now)`: no wall-clock waits, and
two replicas can be made to fire the same time at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import nats
import pytest
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY

from tuneway.api.events.v1.events_pb2 import TrainingJobRequested
from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.trainer.queue import JobQueue

pytestmark = pytest.mark.integration
DAY = 86400
NIGHTLY = "0 3 * * *"  # 03:00 UTC every day
QUEUED_OR_FAILED = ("queued", "failed")


def next_three_am(after: float) -> int:
    """The first 03:00 UTC strictly after `after` (computed here, not by the code under test)."""
    moment = datetime.fromtimestamp(after, UTC)
    candidate = moment.replace(hour=3, minute=0, second=0, microsecond=0)
    if candidate <= moment:
        candidate += timedelta(days=1)
    return int(candidate.timestamp())


def firing_job_id(schedule_id: str, fire_at: int) -> str:
    """The job id the architecture promises a firing: one per (schedule, fire time), on every replica."""
    return "ftjob-" + hashlib.sha256(f"{schedule_id}@{fire_at}".encode()).hexdigest()[:24]


async def register(trainer: Any, tenant: str, content: bytes, filename: str, created_at: int) -> str:
    """Registers a file as the gateway would, with an explicit creation time; returns its id."""
    return str((await trainer.register(tenant, content, filename, created_at)).dataset.file_id)


async def create(trainer: Any, tenant: str, **fields: Any) -> pb.Schedule:
    """CreateSchedule with `fields` (cron defaults to 03:00 UTC daily)."""
    fields.setdefault("cron", NIGHTLY)
    request = pb.CreateScheduleRequest(schedule=pb.Schedule(tenant_id=tenant, **fields))
    return (await trainer.stub.CreateSchedule(request)).schedule


async def get(trainer: Any, tenant: str, schedule_id: str) -> pb.Schedule:
    """GetSchedule."""
    request = pb.GetScheduleRequest(tenant_id=tenant, schedule_id=schedule_id)
    return (await trainer.stub.GetSchedule(request)).schedule


async def jobs_of(trainer: Any, tenant: str) -> list[pb.Job]:
    """Every job of the tenant, newest first."""
    return list((await trainer.stub.ListJobs(pb.ListJobsRequest(tenant_id=tenant, limit=100))).jobs)


def schedule_firings() -> float:
    """tuneway_trainer_schedule_firings_total of this process (every replica of a test shares it)."""
    return REGISTRY.get_sample_value("tuneway_trainer_schedule_firings_total") or 0.0


async def stream_position(nats_url: str) -> int:
    """The TRAINING stream's last sequence number."""
    nc = await nats.connect(nats_url)
    try:
        return int((await nc.jetstream().stream_info("TRAINING")).state.last_seq)
    finally:
        await nc.close()


async def requests_for(nats_url: str, job_id: str, after_seq: int) -> list[tuple[str, TrainingJobRequested]]:
    """(Nats-Msg-Id, body) of every message for `job_id` stored on TRAINING after `after_seq`."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        last = int((await js.stream_info("TRAINING")).state.last_seq)
        found = []
        for seq in range(after_seq + 1, last + 1):
            try:
                msg = await js.get_msg("TRAINING", seq)
            except NotFoundError:
                continue  # taken off the work queue
            body = TrainingJobRequested.FromString(msg.data or b"")
            if body.job_id == job_id:
                found.append(((msg.headers or {}).get("Nats-Msg-Id", ""), body))
        return found
    finally:
        await nc.close()


@pytest.fixture
async def api(start_trainer: Callable[..., Awaitable[Any]], any_db_url: str) -> Any:
    """An API replica (scheduler not running) on SQLite or PostgreSQL."""
    return await start_trainer(any_db_url)


async def test_schedules_are_created_listed_paused_resumed_and_deleted(
    api: Any, tenant: str, chat_lines: Callable[..., bytes], rpc_error: Any
) -> None:
    stub = api.stub
    file_id = await register(api, tenant, chat_lines(12), "support.jsonl", int(time.time()))
    before = time.time()
    fixed = await create(
        api,
        tenant,
        training_file=file_id,
        suffix="nightly",
        hyperparameters=pb.Hyperparameters(n_epochs=2),
        lora=pb.LoraConfig(rank=8),
    )
    assert fixed.id.startswith("ftsched-") and fixed.status == "active"
    assert (fixed.tenant_id, fixed.cron, fixed.training_file, fixed.training_filename) == (
        tenant,
        NIGHTLY,
        file_id,
        "",
    )
    assert (fixed.model, fixed.suffix, fixed.hyperparameters.n_epochs) == ("tuneway-tiny", "nightly", 2)
    assert (fixed.lora.rank, fixed.lora.alpha, len(fixed.lora.target_modules)) == (8, 16, 7)  # resolved
    assert before - 1 <= fixed.created_at <= time.time()
    assert fixed.next_run_at == next_three_am(fixed.created_at)
    assert (fixed.last_run_at, fixed.last_job_id) == (0, "")
    assert await get(api, tenant, fixed.id) == fixed

    by_name = await create(api, tenant, cron="*/15 9-17 * * 1-5", training_filename="support.jsonl")
    assert by_name.training_file == "" and by_name.training_filename == "support.jsonl"
    first = datetime.fromtimestamp(by_name.next_run_at, UTC)
    assert first.minute % 15 == 0 and 9 <= first.hour <= 17 and first.weekday() < 5
    assert 0 < by_name.next_run_at - time.time() <= 3 * DAY
    listed = (await stub.ListSchedules(pb.ListSchedulesRequest(tenant_id=tenant))).schedules
    # Oldest first; created_at has whole seconds, so two schedules of one second may come in either order.
    assert {s.id for s in listed} == {fixed.id, by_name.id}
    assert [s.created_at for s in listed] == sorted(s.created_at for s in listed)

    paused = (
        await stub.PauseSchedule(pb.PauseScheduleRequest(tenant_id=tenant, schedule_id=fixed.id))
    ).schedule
    assert (paused.status, paused.next_run_at) == ("paused", 0)
    assert await get(api, tenant, fixed.id) == paused
    again = (
        await stub.PauseSchedule(pb.PauseScheduleRequest(tenant_id=tenant, schedule_id=fixed.id))
    ).schedule
    assert (again.status, again.next_run_at) == ("paused", 0)
    resumed = (
        await stub.ResumeSchedule(pb.ResumeScheduleRequest(tenant_id=tenant, schedule_id=fixed.id))
    ).schedule
    assert resumed.status == "active" and resumed.next_run_at == next_three_am(time.time())
    # Resuming an active schedule changes nothing.
    unchanged = (
        await stub.ResumeSchedule(pb.ResumeScheduleRequest(tenant_id=tenant, schedule_id=by_name.id))
    ).schedule
    assert unchanged == by_name

    # Every field is checked, and the error names it; nothing invalid is stored.
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "words": ("cron", {"cron": "every night", "training_file": file_id}),
        "six fields": ("cron", {"cron": "0 0 3 * * *", "training_file": file_id}),
        "minute 61": ("cron", {"cron": "61 3 * * *", "training_file": file_id}),
        "empty cron": ("cron", {"cron": "", "training_file": file_id}),
        "both files": ("training_file", {"training_file": file_id, "training_filename": "support.jsonl"}),
        "no file": ("training_file", {}),
        "unknown file": ("training_file", {"training_file": "file-nope"}),
        "model": ("model", {"training_file": file_id, "model": "llama-70b"}),
        "suffix": ("suffix", {"training_file": file_id, "suffix": "Bad Suffix!"}),
        "epochs": (
            "hyperparameters.n_epochs",
            {"training_file": file_id, "hyperparameters": pb.Hyperparameters(n_epochs=0)},
        ),
        "rank": ("lora.rank", {"training_file": file_id, "lora": pb.LoraConfig(rank=512)}),
    }
    for case, (param, fields) in cases.items():
        fields.setdefault("cron", NIGHTLY)
        request = pb.CreateScheduleRequest(schedule=pb.Schedule(tenant_id=tenant, **fields))
        error = await rpc_error(stub.CreateSchedule(request))
        assert (error.grpc_code, error.param) == (grpc.StatusCode.INVALID_ARGUMENT, param), case
    unknown = await rpc_error(
        stub.CreateSchedule(
            pb.CreateScheduleRequest(
                schedule=pb.Schedule(tenant_id=tenant, cron=NIGHTLY, training_file="file-nope")
            )
        )
    )
    assert unknown.code == "file_not_found"
    bad_cron = await rpc_error(
        stub.CreateSchedule(
            pb.CreateScheduleRequest(
                schedule=pb.Schedule(tenant_id=tenant, cron="often", training_file=file_id)
            )
        )
    )
    assert "'often'" in bad_cron.message
    no_tenant = await rpc_error(
        stub.CreateSchedule(
            pb.CreateScheduleRequest(schedule=pb.Schedule(cron=NIGHTLY, training_file=file_id))
        )
    )
    assert (no_tenant.grpc_code, no_tenant.param) == (grpc.StatusCode.INVALID_ARGUMENT, "tenant_id")
    listed = (await stub.ListSchedules(pb.ListSchedulesRequest(tenant_id=tenant))).schedules
    assert {s.id for s in listed} == {fixed.id, by_name.id}

    # Another tenant neither sees nor touches them, nor schedules this tenant's file.
    other = f"o-{uuid.uuid4().hex[:10]}"
    assert not (await stub.ListSchedules(pb.ListSchedulesRequest(tenant_id=other))).schedules
    for call in (
        stub.GetSchedule(pb.GetScheduleRequest(tenant_id=other, schedule_id=fixed.id)),
        stub.PauseSchedule(pb.PauseScheduleRequest(tenant_id=other, schedule_id=fixed.id)),
        stub.ResumeSchedule(pb.ResumeScheduleRequest(tenant_id=other, schedule_id=fixed.id)),
        stub.DeleteSchedule(pb.DeleteScheduleRequest(tenant_id=other, schedule_id=fixed.id)),
    ):
        error = await rpc_error(call)
        assert (error.grpc_code, error.param) == (grpc.StatusCode.NOT_FOUND, "schedule_id")
    error = await rpc_error(create(api, other, training_file=file_id))
    assert (error.grpc_code, error.param, error.code) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "training_file",
        "file_not_found",
    )
    assert await get(api, tenant, fixed.id) == resumed

    await stub.DeleteSchedule(pb.DeleteScheduleRequest(tenant_id=tenant, schedule_id=fixed.id))
    error = await rpc_error(stub.GetSchedule(pb.GetScheduleRequest(tenant_id=tenant, schedule_id=fixed.id)))
    assert error.grpc_code == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(
        stub.DeleteSchedule(pb.DeleteScheduleRequest(tenant_id=tenant, schedule_id=fixed.id))
    )
    assert error.grpc_code == grpc.StatusCode.NOT_FOUND
    listed = (await stub.ListSchedules(pb.ListSchedulesRequest(tenant_id=tenant))).schedules
    assert [s.id for s in listed] == [by_name.id]


async def test_two_replicas_firing_the_same_time_create_one_job_and_one_message(
    start_trainer: Callable[..., Awaitable[Any]],
    any_db_url: str,
    tenant: str,
    chat_lines: Callable[..., bytes],
    nats_url: str,
) -> None:
    one, two = await start_trainer(any_db_url), await start_trainer(any_db_url)
    # Two replicas in one process: import transformers once before both validate at the same moment
    # (its lazy module is not safe to import from two threads at once; real replicas are processes).
    await asyncio.to_thread(one.api.base.tokenizer)
    file_id = await register(one, tenant, chat_lines(12), "support.jsonl", int(time.time()))
    schedule = await create(
        one, tenant, training_file=file_id, suffix="nightly", hyperparameters=pb.Hyperparameters(n_epochs=1)
    )
    fire_at = schedule.next_run_at
    replicas = (one.api.service, two.api.service)
    assert [await r.scheduler.tick(fire_at - 1) for r in replicas] == [[], []]  # not due yet

    position = await stream_position(nats_url)
    firings = schedule_firings()
    fired = await asyncio.gather(*(r.scheduler.tick(fire_at) for r in replicas))
    job_id = firing_job_id(schedule.id, fire_at)
    assert sorted(fired) == [[], [job_id]]  # exactly one replica claimed the firing
    assert schedule_firings() == firings + 1
    # The loser re-drives whatever is still validating (as a restarted replica does): a second
    # validate-and-publish of the same firing, which JetStream must drop as a duplicate.
    await two.api.service.pipeline.recover()
    job = await one.wait_job(tenant, job_id, QUEUED_OR_FAILED, within=60)
    assert job.status == "queued", job.error
    for replica in replicas:
        await replica.pipeline.idle()
        await replica.dispatcher.dispatch()  # racing the background dispatchers: published once
    assert [await r.scheduler.tick(fire_at) for r in replicas] == [[], []]  # fired already
    assert schedule_firings() == firings + 1

    assert [j.id for j in await jobs_of(one, tenant)] == [job_id]
    assert (job.schedule_id, job.training_file, job.suffix, job.hyperparameters.n_epochs) == (
        schedule.id,
        file_id,
        "nightly",
        1,
    )
    after = await get(two, tenant, schedule.id)
    assert (after.last_run_at, after.last_job_id, after.next_run_at) == (fire_at, job_id, fire_at + DAY)

    msg_id = f"{schedule.id}@{fire_at}"
    messages = await requests_for(nats_url, job_id, position)
    assert [(m, b.tenant_id) for m, b in messages] == [(msg_id, tenant)]
    # Publishing the firing again (a replica that crashed before recording `queued`) stores nothing.
    nc = await nats.connect(nats_url)
    try:
        assert await JobQueue(nc).publish(job_id, tenant, msg_id) is False
    finally:
        await nc.close()
    assert len(await requests_for(nats_url, job_id, position)) == 1


async def test_paused_schedule_does_not_fire_and_missed_times_fire_once(
    start_trainer: Callable[..., Awaitable[Any]], tenant: str, chat_lines: Callable[..., bytes]
) -> None:
    one, two = await start_trainer(), await start_trainer()
    file_id = await register(one, tenant, chat_lines(12), "support.jsonl", int(time.time()))
    schedule = await create(one, tenant, training_file=file_id)
    fire_at = schedule.next_run_at
    await one.stub.PauseSchedule(pb.PauseScheduleRequest(tenant_id=tenant, schedule_id=schedule.id))
    for now in (fire_at, fire_at + 1, fire_at + 30 * DAY):
        assert await one.api.service.scheduler.tick(now) == []
        assert await two.api.service.scheduler.tick(now) == []
    assert await jobs_of(one, tenant) == []
    paused = await get(one, tenant, schedule.id)
    assert (paused.status, paused.next_run_at, paused.last_run_at) == ("paused", 0, 0)

    resumed = (
        await two.stub.ResumeSchedule(pb.ResumeScheduleRequest(tenant_id=tenant, schedule_id=schedule.id))
    ).schedule
    next_at = resumed.next_run_at
    assert next_at == next_three_am(time.time())
    # Three nights missed (no replica ticked): one catch-up firing, then the next 03:00 after now.
    late = next_at + 3 * DAY + 3600
    assert await two.api.service.scheduler.tick(late) == [firing_job_id(schedule.id, next_at)]
    assert await one.api.service.scheduler.tick(late) == []
    after = await get(one, tenant, schedule.id)
    assert (after.last_run_at, after.next_run_at) == (next_at, next_at + 4 * DAY)
    assert [j.id for j in await jobs_of(one, tenant)] == [firing_job_id(schedule.id, next_at)]
    await two.api.service.pipeline.idle()


async def test_a_filename_schedule_trains_the_newest_file_of_that_name_at_each_firing(
    trainer: Any, tenant: str, chat_lines: Callable[..., bytes]
) -> None:
    now = int(time.time())
    data = chat_lines(12)
    other = f"o-{uuid.uuid4().hex[:10]}"
    # Registered out of order: the newest by creation time must win, not the last registered.
    newer = await register(trainer, tenant, data, "support.jsonl", now - 100)
    older = await register(trainer, tenant, data, "support.jsonl", now - 200)
    await register(trainer, tenant, data, "other.jsonl", now - 10)  # newer, but another name
    await register(trainer, other, data, "support.jsonl", now - 5)  # newer, but another tenant
    schedule = await create(trainer, tenant, training_filename="support.jsonl")
    missing = await create(trainer, tenant, training_filename="missing.jsonl")
    assert newer != older and schedule.next_run_at == missing.next_run_at
    fire_at = schedule.next_run_at
    scheduler = trainer.api.service.scheduler

    first = firing_job_id(schedule.id, fire_at)
    firings = schedule_firings()
    assert await scheduler.tick(fire_at) == [first]  # `missing` has no file: skipped, no job
    assert schedule_firings() == firings + 1  # a skipped firing made no job and is not counted
    job = await trainer.wait_job(tenant, first, QUEUED_OR_FAILED, within=60)
    assert job.status == "queued" and job.training_file == newer, job.error

    skipped = await get(trainer, tenant, missing.id)
    assert (skipped.status, skipped.last_run_at, skipped.last_job_id, skipped.next_run_at) == (
        "active",
        fire_at,
        "",
        fire_at + DAY,
    )

    # A file uploaded since is what the next firing trains: the name is resolved when it fires.
    newest = await register(trainer, tenant, data, "support.jsonl", now)
    second = firing_job_id(schedule.id, fire_at + DAY)
    assert await scheduler.tick(fire_at + DAY) == [second]
    job = await trainer.wait_job(tenant, second, QUEUED_OR_FAILED, within=60)
    assert job.status == "queued" and job.training_file == newest, job.error
    assert [j.id for j in await jobs_of(trainer, tenant)] == [second, first]
    await trainer.api.service.pipeline.idle()
