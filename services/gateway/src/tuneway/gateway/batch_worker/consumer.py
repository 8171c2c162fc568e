"""The batch worker's loop: pulls batch requests from the BATCHES work queue, claims each batch, runs
it with heartbeats (to JetStream and the batch row), and acks at its end or hands it back (nak)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import APIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.api.events.v1.events_pb2 import BatchRequested
from tuneway.core import nats as tnats
from tuneway.gateway.batch_worker.runner import BatchRunner, StopRequest
from tuneway.gateway.batches import repository as repo
from tuneway.gateway.batches import statuses as st
from tuneway.gateway.batches.queue import SUBJECT
from tuneway.gateway.batches.tables import Batch

log = logging.getLogger(__name__)
DURABLE = "batches"
# How often the worker looks for a cancel of the batch it runs.
CANCEL_POLL_SECONDS = 0.5


class BatchConsumer:
    """One batch at a time per process (its lines run concurrently); more processes run more batches."""

    def __init__(
        self,
        nc: Client,
        sessions: async_sessionmaker[AsyncSession],
        runner: BatchRunner,
        ack_wait_seconds: float,
        worker_id: str,
    ) -> None:
        self._js = nc.jetstream()
        self._sessions = sessions
        self._runner = runner
        self._ack_wait = ack_wait_seconds
        # Well inside the ack wait, so a live worker's batch is never redelivered.
        self._heartbeat = ack_wait_seconds / 6
        self.worker_id = worker_id

    async def subscribe(self) -> object:
        """The durable pull subscription, created (or brought to this worker's ack wait) first."""
        await tnats.ensure_stream(self._js, tnats.BATCHES_STREAM)
        config = ConsumerConfig(
            durable_name=DURABLE,
            name=DURABLE,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            filter_subject=SUBJECT,
            max_ack_pending=1024,
        )
        try:
            await self._js.add_consumer(tnats.BATCHES_STREAM.name or "", config)
        except APIError as error:  # an older server refuses to change an existing consumer
            log.warning("keeping the existing %s consumer: %s", DURABLE, error)
        return await self._js.pull_subscribe_bind(durable=DURABLE, stream=tnats.BATCHES_STREAM.name)

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Pulls and runs batches one by one until `stop` is set."""
        subscription = await self.subscribe()
        if ready is not None:
            ready.set()
        log.info("batch worker waiting for batches", extra={"worker": self.worker_id})
        try:
            while not stop.is_set():
                try:
                    messages = await subscription.fetch(1, timeout=1.0)  # type: ignore[attr-defined]
                except TimeoutError:
                    continue
                for msg in messages:
                    await self.handle(msg, stop)
        finally:
            # A pull subscription left open makes the connection's drain wait out its whole timeout.
            await subscription.unsubscribe()  # type: ignore[attr-defined]

    async def handle(self, msg: Msg, stop: asyncio.Event) -> None:
        """Runs one delivery of a batch request to its end (ack), or hands it back (nak)."""
        try:
            request = BatchRequested.FromString(msg.data)
        except Exception:
            log.error("dropping a message that is not a BatchRequested")
            await msg.term()
            return
        claim = await self._claim(request)
        if claim == "drop":
            await msg.ack()
            return
        if claim == "busy":
            await msg.nak(delay=self._ack_wait)
            return
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

    async def _claim(self, request: BatchRequested) -> str:
        """'run' when this worker now owns the batch, 'drop' when nothing is left to do, 'busy' while
        another live worker runs it (a duplicate delivery)."""
        now = time.time()
        async with self._sessions() as session, session.begin():
            batch = await repo.lock_batch(session, request.batch_id)
            if batch is None or batch.tenant_id != request.tenant_id:
                log.warning("batch %s is not in this gateway's database; dropping it", request.batch_id)
                return "drop"
            if batch.status in st.FINISHED:
                return "drop"
            fresh = now - batch.heartbeat_at < self._ack_wait / 2
            if batch.worker_id and batch.worker_id != self.worker_id and fresh:
                return "busy"
            batch.worker_id, batch.heartbeat_at = self.worker_id, now
        log.info("batch claimed", extra={"batch": request.batch_id, "worker": self.worker_id})
        return "run"

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
