"""Training worker: its side of the TRAINING work queue (`tuneway.core.work_queue`): claims each job,
trains, registers the adapter, and acks at the end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.api.events.v1.events_pb2 import TrainingJobRequested
from tuneway.core import nats as tnats
from tuneway.core.work_queue import Claim, WorkQueueConsumer
from tuneway.trainer import domain as d
from tuneway.trainer.metrics import JOBS, TRAINING_SECONDS
from tuneway.trainer.models import JobRow
from tuneway.trainer.queue import SUBJECT
from tuneway.trainer.repository import job_events as event_repo
from tuneway.trainer.repository import jobs as job_repo
from tuneway.trainer.worker.progress import JobProgress
from tuneway.trainer.worker.publishing import AdapterPublisher
from tuneway.trainer.worker.runner import JobRunner

log = logging.getLogger(__name__)
DURABLE = "trainer"


@dataclass(frozen=True)
class QueueTiming:
    """Redelivery and heartbeat timing of the work queue."""

    ack_wait_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    cancel_poll_seconds: float = 0.25
    max_attempts: int = 3


class Worker(WorkQueueConsumer[TrainingJobRequested]):
    """One worker process: one job at a time; run more processes to train more jobs at once."""

    request_type = TrainingJobRequested

    def __init__(
        self,
        nc: Client,
        sessions: async_sessionmaker[AsyncSession],
        runner: JobRunner,
        publisher: AdapterPublisher,
        timing: QueueTiming,
        worker_id: str,
    ) -> None:
        super().__init__(
            nc,
            tnats.TRAINING_STREAM,
            DURABLE,
            SUBJECT,
            timing.ack_wait_seconds,
            max_ack_pending=64,
            # Bounded, above what the crash guard allows, so the guard (with its reason) fires first.
            max_deliver=4 * timing.max_attempts + 4,
        )
        self._sessions = sessions
        self._runner = runner
        self._publisher = publisher
        self._timing = timing
        self.worker_id = worker_id

    async def work(self, request: TrainingJobRequested, msg: Msg, stop: asyncio.Event) -> None:
        """Trains the claimed job (ack at its end), or hands it back (nak) when stopping."""
        await self._train(request.job_id, msg, stop)

    async def claim(self, request: TrainingJobRequested) -> Claim:
        """RUN when this worker now owns the job, DROP when nothing is left to do, BUSY otherwise."""
        now = time.time()
        async with self._sessions() as s, s.begin():
            job = await s.get(JobRow, request.job_id)
            if job is None or job.tenant_id != request.tenant_id:
                log.warning("job %s: not in this trainer's database; dropping the request", request.job_id)
                return Claim.DROP
            if job.status in d.FINISHED:
                return Claim.DROP
            # A live worker refreshes heartbeat_at every heartbeat; one silent for half the ack wait is gone.
            fresh = now - job.heartbeat_at < max(
                2 * self._timing.heartbeat_seconds, self._timing.ack_wait_seconds / 2
            )
            if job.status == d.RUNNING and job.worker_id and job.worker_id != self.worker_id and fresh:
                return Claim.BUSY  # a duplicate delivery while its worker still trains it
            crashes = job.attempts - job.handbacks
            if crashes >= self._timing.max_attempts:
                step = await self._last_step(s, job)
                message = (
                    f"Training stopped unexpectedly {crashes} times (the worker process died; last step "
                    f"recorded: {step}). The job is not retried again."
                )
                job.status, job.finished_at = d.FAILED, int(now)
                job.error_code, job.error_message, job.error_param = "worker_crashed", message, ""
                await event_repo.add_event(s, job, message, level="error")
                JOBS.labels(d.FAILED).inc()
                return Claim.DROP
            job.status, job.attempts = d.RUNNING, job.attempts + 1
            job.worker_id, job.heartbeat_at = self.worker_id, now
            job.started_at = job.started_at or int(now)
            await event_repo.add_event(s, job, f"Fine-tuning job started (attempt {job.attempts}).")
            return Claim.RUN

    async def _last_step(self, s: AsyncSession, job: JobRow) -> int:
        events = await event_repo.list_events(s, job, "", 50)
        return max((int((e.data or {}).get("step", 0)) for e in events if e.type == "metrics"), default=0)

    async def _train(self, job_id: str, msg: Msg, stop: asyncio.Event) -> None:
        progress = JobProgress(self._sessions, job_id, asyncio.get_running_loop())
        writer = asyncio.create_task(progress.write())
        watcher = asyncio.create_task(self._keep_alive(job_id, msg, progress, stop))
        started = time.monotonic()
        try:
            outcome = await self._runner.run(job_id, progress)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await progress.close()
            await writer
            TRAINING_SECONDS.observe(time.monotonic() - started)
        if outcome.kind == "handback":
            await self._hand_back(job_id, outcome.step)
            await msg.nak()
            return
        if outcome.kind == "trained":
            assert outcome.adapter is not None
            await self._publisher.finish(job_id, outcome.adapter, outcome.metrics, outcome.trained_tokens)
        await msg.ack()

    async def _keep_alive(self, job_id: str, msg: Msg, progress: JobProgress, stop: asyncio.Event) -> None:
        """Heartbeats to JetStream and the job row; turns a cancel or a stop signal into a stop request."""
        last_beat = 0.0
        while True:
            now = time.monotonic()
            if now - last_beat >= self._timing.heartbeat_seconds:
                last_beat = now
                await msg.in_progress()
                async with self._sessions() as s, s.begin():
                    await job_repo.move_job(s, job_id, (d.RUNNING,), heartbeat_at=time.time())
            async with self._sessions() as s:
                job = await s.get(JobRow, job_id)
            if job is None or job.status == d.CANCELLED:
                progress.request_stop("cancelled")
            elif job.status in d.FINISHED:
                progress.request_stop("finished elsewhere")
            if stop.is_set():
                progress.request_stop("handback")
            await asyncio.sleep(self._timing.cancel_poll_seconds)

    async def _hand_back(self, job_id: str, step: int) -> None:
        async with self._sessions() as s, s.begin():
            job = await s.get(JobRow, job_id)
            if job is None or job.status != d.RUNNING:
                return
            job.status, job.handbacks, job.worker_id, job.heartbeat_at = d.QUEUED, job.handbacks + 1, "", 0.0
            await event_repo.add_event(
                s, job, f"Worker stopping: job handed back at step {step}; it resumes from there."
            )
