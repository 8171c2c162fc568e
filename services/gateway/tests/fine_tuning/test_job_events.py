"""A job's SSE relay against a real trainer API replica that stops and comes back mid-stream."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.testing.processes import free_port, start_nats_server, stop_process
from tuneway.gateway.clients.trainer import TrainerClient
from tuneway.gateway.fine_tuning.job_events import event_stream
from tuneway.gateway.streaming import DONE

trainer_main = pytest.importorskip("tuneway.trainer.api.main")
pytestmark = pytest.mark.integration
TENANT = "acme"


class TrainerReplica:
    """The trainer API in this process on a fixed port and database, so a new one replaces a stopped one."""

    def __init__(self, tmp_path: Path, nats_url: str, demo_model: Path) -> None:
        from tuneway.trainer.settings import TrainerSettings

        self.port = free_port()
        self.settings = TrainerSettings(
            db_url=f"sqlite+aiosqlite:///{(tmp_path / 'trainer.db').as_posix()}",
            nats_url=nats_url,
            grpc_port=self.port,
            host="127.0.0.1",
            data_dir=tmp_path,
            base_model=str(demo_model),
            drain_seconds=0.5,
        )
        self.api: trainer_main.TrainerApi | None = None

    async def start(self) -> None:
        self.api = trainer_main.TrainerApi(self.settings)
        await self.api.start(scheduler=False)

    async def stop(self) -> None:
        if self.api is not None:
            await self.api.stop()
            self.api = None


@pytest.fixture
async def replica(tmp_path: Path, demo_model: Path) -> AsyncIterator[TrainerReplica]:
    # A NATS of its own: the job queued here must not reach another test's trainer workers.
    nats_port = free_port()
    nats = start_nats_server(nats_port, tmp_path / "nats", tmp_path / "nats.log")
    replica = TrainerReplica(tmp_path, f"nats://127.0.0.1:{nats_port}", demo_model)
    await replica.start()
    try:
        yield replica
    finally:
        await replica.stop()
        stop_process(nats)


@pytest.fixture
async def trainer(replica: TrainerReplica) -> AsyncIterator[TrainerClient]:
    client = TrainerClient(f"127.0.0.1:{replica.port}", rpc_timeout=5, validation_timeout=5)
    yield client
    await client.close()


async def _queued_job(replica: TrainerReplica, trainer: TrainerClient) -> str:
    """A job validated and queued (no worker takes it), from a dataset stored as the gateway stores it."""
    answer = {"role": "assistant", "content": "Yes."}
    lines = [{"messages": [{"role": "user", "content": f"Question {i}?"}, answer]} for i in range(12)]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    path = replica.settings.data_dir / "artifacts" / "files" / TENANT / "file-events"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    dataset = pb.Dataset(
        file_id="file-events",
        tenant_id=TENANT,
        filename="train.jsonl",
        uri=f"file://{path.resolve()}",
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        created_at=int(time.time()),
    )
    await trainer.call(trainer.stub.RegisterDataset, pb.RegisterDatasetRequest(dataset=dataset))
    request = pb.CreateJobRequest(tenant_id=TENANT, training_file="file-events")
    return str((await trainer.call(trainer.stub.CreateJob, request)).job.id)


def _data(message: bytes) -> dict[str, object]:
    data = next(line for line in message.split(b"\n") if line.startswith(b"data: "))
    return dict(orjson.loads(data.removeprefix(b"data: ")))


async def _until_queued(stream: AsyncIterator[bytes]) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    while not events or "queued" not in str(events[-1]["message"]).lower():
        message = await anext(stream)
        if message.startswith(b"id: "):
            events.append(_data(message))
    return events


async def test_the_stream_resumes_after_the_trainer_comes_back(
    replica: TrainerReplica, trainer: TrainerClient
) -> None:
    job_id = await _queued_job(replica, trainer)
    stream = event_stream(trainer, TENANT, job_id, after_seq=0, keepalive=0.2)
    events = await _until_queued(stream)

    await replica.stop()
    for _ in range(3):  # the relay keeps the stream open while no trainer answers
        assert await anext(stream) == b": keepalive\n\n"
    await replica.start()
    await trainer.call(trainer.stub.CancelJob, pb.CancelJobRequest(tenant_id=TENANT, job_id=job_id))

    rest = [message async for message in stream]
    assert rest[-1] == DONE
    events += [_data(message) for message in rest if message.startswith(b"id: ")]
    assert events[-1]["message"] == "Fine-tuning job cancelled."
    # Nothing missed and nothing twice: the new watch began after the last event relayed.
    listed = await trainer.call(
        trainer.stub.ListJobEvents, pb.ListJobEventsRequest(tenant_id=TENANT, job_id=job_id, limit=100)
    )
    assert [e["id"] for e in events] == [e.id for e in reversed(listed.events)]


async def test_a_trainer_that_stays_away_ends_the_stream_with_a_503_event(
    replica: TrainerReplica, trainer: TrainerClient
) -> None:
    job_id = await _queued_job(replica, trainer)
    stream = event_stream(trainer, TENANT, job_id, after_seq=0, keepalive=0.2, resume_within=1.0)
    await _until_queued(stream)

    await replica.stop()
    rest = [message async for message in stream]
    assert rest[-1].startswith(b"event: error\n")
    error = _data(rest[-1])["error"]
    assert isinstance(error, dict) and error["code"] == "service_unavailable"
    assert all(message == b": keepalive\n\n" for message in rest[:-1])
