"""Fixtures of the trainer's tests: a real API replica over gRPC, real workers as processes, real NATS."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest
from nats.js.errors import KeyDeletedError, KeyNotFoundError

from tuneway.api.events.v1.events_pb2 import AdapterRegistration
from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.api.trainer.v1 import trainer_pb2_grpc
from tuneway.core.grpc_client import create_channel
from tuneway.core.testing.processes import free_port
from tuneway.trainer.api.main import TrainerApi
from tuneway.trainer.settings import TrainerSettings

Stub = trainer_pb2_grpc.TrainerServiceStub
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "datasets" / "shop-support.jsonl"
FINISHED = ("succeeded", "failed", "cancelled")
# Short queue timing, so redelivery after a killed worker takes seconds, not half a minute.
WORKER_ENV = {
    "TRAINER_ACK_WAIT_SECONDS": "4",
    "TRAINER_HEARTBEAT_SECONDS": "0.5",
    "TRAINER_REGISTRATION_WAIT_SECONDS": "1",
    "TRAINER_WORKER_METRICS_PORT": "0",
    "TRAINER_TORCH_THREADS": "2",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """The embedded SQLite store and PostgreSQL, for tests of the store's logic."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url"))


@dataclass
class Trainer:
    """A running API replica and what tests need around it."""

    stub: Stub
    api: TrainerApi
    settings: TrainerSettings
    data_dir: Path
    base_model: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def register(
        self,
        tenant: str,
        content: bytes | Path,
        filename: str = "data.jsonl",
        created_at: int | None = None,
    ) -> Awaitable[pb.RegisterDatasetResponse]:
        """Stores bytes as the gateway would and registers them as a dataset (created now unless
        `created_at` says otherwise); returns the RPC."""
        data = content.read_bytes() if isinstance(content, Path) else content
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        path = self.data_dir / "artifacts" / "files" / tenant / file_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        dataset = pb.Dataset(
            file_id=file_id,
            tenant_id=tenant,
            filename=filename,
            uri=f"file://{path.resolve()}",
            sha256=hashlib.sha256(data).hexdigest(),
            bytes=len(data),
            created_at=int(time.time()) if created_at is None else created_at,
        )
        return self.stub.RegisterDataset(pb.RegisterDatasetRequest(dataset=dataset))

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        """Starts `python -m tuneway.trainer worker` against this replica's database and NATS."""
        environment = {
            **os.environ,
            **WORKER_ENV,
            "TRAINER_DATABASE_URL": self.settings.db_url(),
            "TUNEWAY_NATS_URL": self.settings.nats_url,
            "TUNEWAY_DATA_DIR": str(self.data_dir),
            "TRAINER_BASE_MODEL": str(self.base_model),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        log = (self.data_dir / f"worker-{len(self.workers)}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "tuneway.trainer", "worker"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    async def wait_job(
        self, tenant: str, job_id: str, statuses: tuple[str, ...], within: float = 180
    ) -> pb.Job:
        """Polls the job until its status is one of `statuses`."""
        deadline = time.monotonic() + within
        while True:
            job = (await self.stub.GetJob(pb.GetJobRequest(tenant_id=tenant, job_id=job_id))).job
            if job.status in statuses:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"job {job_id} is {job.status}, not {statuses}, after {within} s\n{self.logs()}"
                )
            await asyncio.sleep(0.2)

    async def wait_event(
        self, tenant: str, job_id: str, match: Callable[[pb.JobEvent], bool], within: float = 180
    ) -> pb.JobEvent:
        """Polls the job's events until one matches."""
        deadline = time.monotonic() + within
        while True:
            response = await self.stub.ListJobEvents(
                pb.ListJobEventsRequest(tenant_id=tenant, job_id=job_id, limit=100)
            )
            found = [e for e in response.events if match(e)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching event of {job_id} after {within} s\n{self.logs()}")
            await asyncio.sleep(0.1)

    async def events(self, tenant: str, job_id: str) -> list[pb.JobEvent]:
        """Every event of a job, oldest first."""
        response = await self.stub.ListJobEvents(
            pb.ListJobEventsRequest(tenant_id=tenant, job_id=job_id, limit=100)
        )
        return list(reversed(response.events))

    def logs(self) -> str:
        """The tail of every worker's log (for failure messages)."""
        tails = []
        for path in sorted(self.data_dir.glob("worker-*.log")):
            tails.append(
                f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-30:])
            )
        return "\n".join(tails)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM; a live worker must drain and exit cleanly within seconds (as Kubernetes expects)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("a worker did not exit within 15 s of SIGTERM") from None
        # -SIGTERM: it was still importing, before its signal handlers existed (nothing to drain).
        assert code in (0, -signal.SIGTERM), f"a worker exited with {code} on SIGTERM"


@pytest.fixture
async def start_trainer(
    nats_url: str, demo_model: Path, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Trainer]]]:
    """Starts API replicas (in this process) on one database; workers are started by the test."""
    started: list[tuple[Trainer, grpc.aio.Channel]] = []

    async def start(db_url: str = "", **overrides: Any) -> Trainer:
        port = free_port()
        settings = TrainerSettings(
            db_url=db_url or f"sqlite+aiosqlite:///{(tmp_path / 'trainer.db').as_posix()}",
            nats_url=nats_url,
            grpc_port=port,
            host="127.0.0.1",
            data_dir=tmp_path,
            base_model=str(demo_model),
            **overrides,
        )
        api = TrainerApi(settings)
        await api.start(scheduler=False)
        channel = create_channel(f"127.0.0.1:{port}")
        trainer = Trainer(Stub(channel), api, settings, tmp_path, demo_model)
        started.append((trainer, channel))
        return trainer

    yield start
    unclean = []
    for trainer, channel in started:
        for process in trainer.workers:
            try:
                _stop(process)
            except AssertionError as error:
                unclean.append(str(error))
        await channel.close()
        await trainer.api.stop()
    assert not unclean, unclean


@pytest.fixture
async def trainer(start_trainer: Callable[..., Awaitable[Trainer]]) -> Trainer:
    """One API replica on SQLite."""
    return await start_trainer()


@pytest.fixture
def adapter_registration(nats_url: str) -> Callable[[str], Awaitable[AdapterRegistration | None]]:
    """adapter_registration(key): the ADAPTERS entry under `key`; None if it never existed or was deleted."""

    async def read(key: str) -> AdapterRegistration | None:
        nc = await nats.connect(nats_url)
        try:
            kv = await nc.jetstream().key_value("ADAPTERS")
            try:
                entry = await kv.get(key)
            except (KeyNotFoundError, KeyDeletedError):
                return None
            return AdapterRegistration.FromString(entry.value or b"")
        finally:
            await nc.close()

    return read


@pytest.fixture(scope="session")
def example_dataset() -> Path:
    """The shipped example support dataset."""
    return EXAMPLE


def _chat_lines(count: int, bad_line: str | None = None) -> bytes:
    import json

    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"Question {i}?"},
                    {"role": "assistant", "content": f"Answer {i}."},
                ]
            }
        )
        for i in range(count)
    ]
    if bad_line is not None:
        lines.insert(2, bad_line)
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="session")
def chat_lines() -> Callable[..., bytes]:
    """chat_lines(count, bad_line=None): valid chat JSONL examples, `bad_line` inserted as line 3."""
    return _chat_lines
