"""The batch worker's side of the BATCHES work queue (`tuneway.core.work_queue`): claims each batch in
the gateway's database, runs it with heartbeats (to JetStream and the batch row), and acks at its end
or hands it back (nak)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.api.events.v1.events_pb2 import BatchRequested
from tuneway.core import nats as tnats
from tuneway.core.work_queue import Claim, WorkQueueConsumer
from tuneway.gateway.batch_worker.runner import BatchRunner, StopRequest
from tuneway.gateway.batches import repository as repo
from tuneway.gateway.batches import statuses as st
from tuneway.gateway.batches.queue import SUBJECT
from tuneway.gateway.batches.tables import Batch

log = logging.getLogger(__name__)
DURABLE = "batches"
# How often the worker looks for a cancel of the batch it runs.
CANCEL_POLL_SECONDS = 0.5


class BatchConsumer(WorkQueueConsumer[BatchRequested]):
    """One batch at a time per process (its lines run concurrently); more processes run more batches."""

    request_type = BatchRequested

    def __init__(
        self,
        nc: Client,
        sessions: async_sessionmaker[AsyncSession],
        runner: BatchRunner,
        ack_wait_seconds: float,
        worker_id: str,
    ) -> None:
        super().__init__(nc, tnats.BATCHES_STREAM, DURABLE, SUBJECT, ack_wait_seconds, max_ack_pending=1024)
        self._sessions = sessions
        self._runner = runner
        # Well inside the ack wait, so a live worker's batch is never redelivered.
        self._heartbeat = ack_wait_seconds / 6
        self.worker_id = worker_id

    async def work(self, request: BatchRequested, msg: Msg, stop: asyncio.Event) -> None:
        """Runs the claimed batch to its end (ack), or hands it back (nak) when stopping or cancelled."""
        halt = StopRequest()
        watcher = asyncio.create_task(self._keep_alive(request.batch_id, msg, halt, stop))
        try:
            finished = await self._runner.run(request.batch_id, halt)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if finished:
            await msg.ack()
        else:
            await self._hand_back(request.batch_id)
            await msg.nak()

    async def claim(self, request: BatchRequested) -> Claim:
        """RUN when this worker now owns the batch, DROP when nothing is left to do, BUSY while another
        live worker runs it (a duplicate delivery)."""
        now = time.time()
        async with self._sessions() as session, session.begin():
            batch = await repo.lock_batch(session, request.batch_id)
            if batch is None or batch.tenant_id != request.tenant_id:
                log.warning("batch %s is not in this gateway's database; dropping it", request.batch_id)
                return Claim.DROP
            if batch.status in st.FINISHED:
                return Claim.DROP
            fresh = now - batch.heartbeat_at < self._ack_wait / 2
            if batch.worker_id and batch.worker_id != self.worker_id and fresh:
                return Claim.BUSY
            batch.worker_id, batch.heartbeat_at = self.worker_id, now
        log.info("batch claimed", extra={"batch": request.batch_id, "worker": self.worker_id})
        return Claim.RUN

    async def _keep_alive(self, batch_id: str, msg: Msg, halt: StopRequest, stop: asyncio.Event) -> None:
        """Heartbeats to JetStream and the batch row; turns a cancel or a stop signal into a halt."""
        last_beat = 0.0
        while True:
            now = time.monotonic()
            if now - last_beat >= self._heartbeat:
                last_beat = now
                with contextlib.suppress(Exception):  # NATS away: the row's heartbeat still counts
                    await msg.in_progress()
                async with self._sessions() as session, session.begin():
                    batch = await session.get(Batch, batch_id)
                    if batch is not None:
                        batch.heartbeat_at = time.time()
            async with self._sessions() as session:
                batch = await session.get(Batch, batch_id)
            if batch is not None and batch.status == st.CANCELLING and not halt.reason:
                halt.reason = "cancel"
            if stop.is_set():
                halt.reason = "handback"
            await asyncio.sleep(CANCEL_POLL_SECONDS)

    async def _hand_back(self, batch_id: str) -> None:
        """Frees the batch for the next worker at once (no wait for this worker's heartbeat to age)."""
        async with self._sessions() as session, session.begin():
            batch = await session.get(Batch, batch_id)
            if batch is not None and batch.worker_id == self.worker_id:
                batch.worker_id, batch.heartbeat_at = "", 0.0
        log.info("batch handed back", extra={"batch": batch_id})
