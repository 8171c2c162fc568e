"""A job accepted while NATS is down is queued when NATS returns, by the replica that took it or by one
started later, and its request is stored in the TRAINING stream once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.testing.processes import NatsServer

pytestmark = [pytest.mark.integration, pytest.mark.faults]
FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own, so stopping it disturbs no other test."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_url(private_nats: NatsServer) -> str:
    """The replicas and workers of these tests talk to the private server (overrides the session's)."""
    return private_nats.url


async def _training_requests(url: str) -> tuple[int, list[str]]:
    """How many messages the TRAINING stream ever stored, and the Nats-Msg-Id of those still in it."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        state = (await js.stream_info("TRAINING")).state
        ids = []
        for seq in range(state.first_seq, state.last_seq + 1):
            if state.messages == 0:
                break
            msg = await js.get_msg("TRAINING", seq)
            ids.append((msg.headers or {}).get("Nats-Msg-Id", ""))
        return state.last_seq, ids
    finally:
        await nc.close()


async def _create_while_down(trainer: Any, tenant: str, example_dataset: Path, server: NatsServer) -> pb.Job:
    """Stops NATS, creates a job, and checks that it is accepted and queued, not failed."""
    file_id = (await trainer.register(tenant, example_dataset, "shop-support.jsonl")).dataset.file_id
    server.stop()
    request = pb.CreateJobRequest(
        tenant_id=tenant, training_file=file_id, hyperparameters=pb.Hyperparameters(n_epochs=1)
    )
    created = (await trainer.stub.CreateJob(request)).job
    assert created.status == "validating_files"
    # Long enough for publishing to time out (nats-py waits 5 s for a JetStream ack) and be retried.
    await asyncio.sleep(8)
    job = await trainer.wait_job(tenant, created.id, ("queued", *FINISHED), within=60)
    assert job.status == "queued", job.error
    assert not job.error.message
    return job


async def test_a_job_created_while_nats_is_down_runs_when_it_returns(
    start_trainer: Callable[..., Awaitable[Any]],
    private_nats: NatsServer,
    tenant: str,
    example_dataset: Path,
) -> None:
    trainer = await start_trainer()
    trainer.start_worker()
    job = await _create_while_down(trainer, tenant, example_dataset, private_nats)

    private_nats.start()
    job = await trainer.wait_job(tenant, job.id, FINISHED, within=300)
    assert job.status == "succeeded", job.error
    assert job.attempts == 1
    stored, _ = await _training_requests(private_nats.url)
    assert stored == 1  # published once, whatever the retries while NATS was down


async def test_a_job_queued_while_nats_is_down_is_published_by_a_replica_started_later(
    start_trainer: Callable[..., Awaitable[Any]],
    private_nats: NatsServer,
    tenant: str,
    example_dataset: Path,
) -> None:
    first = await start_trainer()
    job = await _create_while_down(first, tenant, example_dataset, private_nats)
    await first.api.stop()  # the replica that took the job is gone before NATS returns

    private_nats.start()
    second = await start_trainer()
    for _ in range(300):
        stored, ids = await _training_requests(private_nats.url)
        if ids:
            break
        await asyncio.sleep(0.1)
    assert (stored, ids) == (1, [job.id])
    await asyncio.sleep(1)  # a second publish would show up by now
    assert await _training_requests(private_nats.url) == (1, [job.id])
    second.start_worker()
    job = await second.wait_job(tenant, job.id, FINISHED, within=300)
    assert job.status == "succeeded", job.error
