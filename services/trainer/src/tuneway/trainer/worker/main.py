"""Composition root of the training worker: store, NATS, runner, adapter publisher, queue consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket

from tuneway.core import nats as tnats
from tuneway.core.db import create_engine, session_factory
from tuneway.core.lifecycle import install_stop_signals, retry_forever
from tuneway.core.metrics import serve_metrics
from tuneway.trainer.adapter_registry import Registry
from tuneway.trainer.foundation_model import FoundationModel
from tuneway.trainer.settings import TrainerSettings
from tuneway.trainer.startup import migrate_and_connect
from tuneway.trainer.worker.consumer import QueueTiming, Worker
from tuneway.trainer.worker.publishing import AdapterPublisher
from tuneway.trainer.worker.runner import JobRunner, RunnerConfig

log = logging.getLogger(__name__)


async def serve_worker(settings: TrainerSettings) -> None:
    """Trains jobs until SIGTERM/SIGINT; a job in training is checkpointed and handed back."""
    stop = install_stop_signals()
    serve_metrics(settings.worker_metrics_port)
    engine = create_engine(settings.db_url())
    sessions = session_factory(engine)
    nc = await migrate_and_connect(settings, "trainer-worker", stop)
    kv = await retry_forever(
        "ADAPTERS bucket", lambda: tnats.ensure_kv(nc.jetstream(), tnats.ADAPTERS_BUCKET)
    )
    base = FoundationModel(settings.base_model_id(), settings.base_model_path())
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
    await tnats.close(nc)
    await engine.dispose()
