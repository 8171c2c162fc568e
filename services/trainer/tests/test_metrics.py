"""The trainer's dashboard metrics: queue depth and running jobs from the table, throughput and loss
from a worker's progress."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.db import create_engine, session_factory
from tuneway.trainer.worker.progress import JobProgress


def _value(name: str) -> float:
    value = REGISTRY.get_sample_value(name)
    assert value is not None, name
    return value


@pytest.mark.integration
async def test_queued_jobs_are_counted_from_the_table(
    trainer: Any, tenant: str, example_dataset: Path
) -> None:
    file_id = (await trainer.register(tenant, example_dataset, "shop-support.jsonl")).dataset.file_id
    await trainer.api.job_gauges.refresh()
    assert _value("tuneway_trainer_jobs_queued") == 0
    for _ in range(2):  # no worker runs: both stay queued
        created = (
            await trainer.stub.CreateJob(pb.CreateJobRequest(tenant_id=tenant, training_file=file_id))
        ).job
        await trainer.wait_job(tenant, created.id, ("queued",), within=60)
    await trainer.api.job_gauges.refresh()
    assert _value("tuneway_trainer_jobs_queued") == 2
    assert _value("tuneway_trainer_jobs_running") == 0
    await trainer.stub.CancelJob(pb.CancelJobRequest(tenant_id=tenant, job_id=created.id))
    await trainer.api.job_gauges.refresh()
    assert _value("tuneway_trainer_jobs_queued") == 1


async def test_progress_counts_trained_tokens_per_logged_step_and_keeps_the_latest_loss(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    progress = JobProgress(session_factory(engine), "ftjob-x", asyncio.get_running_loop())
    before = _value("tuneway_trainer_trained_tokens_total")
    # Resumed at step 4 of a run of 120 tokens a step: steps 1-4 were counted by the first attempt.
    progress.count_tokens(from_step=4, tokens_per_step=120.0)
    progress.metrics({"step": 6, "total_steps": 10, "train_loss": 2.5})
    assert _value("tuneway_trainer_trained_tokens_total") == before + 2 * 120
    assert _value("tuneway_trainer_training_loss") == 2.5
    progress.metrics({"step": 9, "total_steps": 10, "train_loss": 1.25})
    assert _value("tuneway_trainer_trained_tokens_total") == before + 5 * 120
    assert _value("tuneway_trainer_training_loss") == 1.25
    await engine.dispose()
