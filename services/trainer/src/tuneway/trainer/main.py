"""Composition roots of the trainer: the gRPC API (with the scheduler) and the training worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import sys
from pathlib import Path

from nats.aio.client import Client

from tuneway.api.trainer.v1 import trainer_pb2, trainer_pb2_grpc
from tuneway.core import nats as tnats
from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.grpc_server import build_server
from tuneway.core.lifecycle import install_stop_signals, retry_forever
from tuneway.core.logging import configure_logging
from tuneway.core.metrics import serve_metrics
from tuneway.trainer.jobs import JobLimits
from tuneway.trainer.publishing import AdapterPublisher
from tuneway.trainer.queue import JobQueue
from tuneway.trainer.registry import Registry
from tuneway.trainer.runner import JobRunner, RunnerConfig
from tuneway.trainer.schedules import run_scheduler
from tuneway.trainer.service import TrainerService
from tuneway.trainer.servicer import TrainerServicer
from tuneway.trainer.settings import TrainerSettings
from tuneway.trainer.validation import BaseModel
from tuneway.trainer.worker import QueueTiming, Worker

log = logging.getLogger(__name__)
SERVICE_NAME = trainer_pb2.DESCRIPTOR.services_by_name["TrainerService"].full_name
MIGRATIONS = Path(__file__).parent / "migrations"


async def _connect(settings: TrainerSettings, name: str, stop: asyncio.Event | None) -> Client:
    """Migrates the database and connects to NATS, waiting for both (start order does not matter)."""
    url = settings.db_url_or_default()
    await retry_forever("trainer database", lambda: upgrade_database(url, MIGRATIONS), stop=stop)
    return await retry_forever("NATS", lambda: tnats.connect(settings.nats_url, name), stop=stop)


class TrainerApi:
    """One API replica: `start()` migrates, connects and listens; `stop()` drains."""

    def __init__(self, settings: TrainerSettings) -> None:
        self.settings = settings
        self._engine = create_engine(settings.db_url_or_default())
        self._sessions = session_factory(self._engine)
        self.base = BaseModel(settings.base_model_id(), settings.base_model_path())
        self._stop = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self._nc: Client | None = None
        self.service: TrainerService | None = None

    async def start(self, *, scheduler: bool = True) -> None:
        """Serves RPCs once the database, the TRAINING stream and the ADAPTERS bucket are there."""
        nc = self._nc = await _connect(self.settings, "trainer-api", None)
        js = nc.jetstream()
        queue = JobQueue(js)
        await retry_forever("TRAINING stream", queue.ensure)
        kv = await retry_forever("ADAPTERS bucket", lambda: tnats.ensure_kv(js, tnats.ADAPTERS_BUCKET))
        limits = JobLimits(max_seq_length=self.settings.max_seq_length)
        self.service = TrainerService.build(self._sessions, self.base, queue.publish, kv, limits)
        service = self.service
        self._grpc = build_server(
            service="trainer",
            registrars=[
                lambda s: trainer_pb2_grpc.add_TrainerServiceServicer_to_server(TrainerServicer(service), s)
            ],
            service_names=[SERVICE_NAME],
            bind=f"{self.settings.host}:{self.settings.grpc_port}",
        )
        await self._grpc.start()
        recovered = await service.jobs.recover()
        if scheduler:
            self._scheduler = asyncio.create_task(
                run_scheduler(service.schedules, self.settings.scheduler_tick_seconds, self._stop)
            )
        await self._grpc.mark_serving()
        log.info("trainer api listening", extra={"port": self.settings.grpc_port, "recovered": recovered})

    async def stop(self) -> None:
        """Stops taking RPCs, lets in-flight ones finish, then closes NATS and the database."""
        self._stop.set()
        await self._grpc.stop(self.settings.drain_seconds)
        if self._scheduler is not None:
            await self._scheduler
        if self.service is not None:
            await self.service.jobs.close()
        if self._nc is not None:
            await self._nc.drain()
        await self._engine.dispose()


async def serve_api(settings: TrainerSettings) -> None:
    """Runs the API until SIGTERM/SIGINT."""
    stop = install_stop_signals()
    serve_metrics(settings.metrics_port)
    api = TrainerApi(settings)
    await api.start()
    await stop.wait()
    log.info("draining")
    await api.stop()


async def serve_worker(settings: TrainerSettings) -> None:
    """Trains jobs until SIGTERM/SIGINT; a job in training is checkpointed and handed back."""
    stop = install_stop_signals()
    serve_metrics(settings.worker_metrics_port)
    engine = create_engine(settings.db_url_or_default())
    sessions = session_factory(engine)
    nc = await _connect(settings, "trainer-worker", stop)
    kv = await retry_forever(
        "ADAPTERS bucket", lambda: tnats.ensure_kv(nc.jetstream(), tnats.ADAPTERS_BUCKET)
    )
    base = BaseModel(settings.base_model_id(), settings.base_model_path())
    registry = Registry(sessions, kv)
    runner = JobRunner(
        sessions,
        base,
        RunnerConfig(
            artifacts=settings.artifacts_root(),
            max_seq_length=settings.max_seq_length,
            checkpoint_steps=settings.checkpoint_steps,
            torch_threads=settings.torch_threads,
            gradient_checkpointing=settings.gradient_checkpointing,
        ),
    )
    worker = Worker(
        nc,
        sessions,
        runner,
        AdapterPublisher(nc, sessions, registry, settings.registration_wait_seconds),
        QueueTiming(
            ack_wait_seconds=settings.ack_wait_seconds,
            heartbeat_seconds=settings.heartbeat_seconds,
            cancel_poll_seconds=settings.cancel_poll_seconds,
            max_attempts=settings.max_attempts,
        ),
        worker_id=f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}",
    )
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait({task, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
    log.info("worker stopping")
    with contextlib.suppress(asyncio.CancelledError):
        await task  # returns after the job in hand is finished or handed back
    await nc.drain()
    await engine.dispose()


def main() -> None:
    """Entry point: `python -m tuneway.trainer [api|worker]`."""
    role = sys.argv[1] if len(sys.argv) > 1 else "api"
    if role not in ("api", "worker"):
        raise SystemExit(f"usage: python -m tuneway.trainer [api|worker] (got {role!r})")
    settings = TrainerSettings()
    configure_logging(f"trainer-{role}" if role == "worker" else "trainer", settings.log_level)
    asyncio.run(serve_api(settings) if role == "api" else serve_worker(settings))
