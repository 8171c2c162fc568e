"""Publishes analytics events to the EVENTS stream in the background, never on a request's time.

Handlers call `submit`, which only puts the event on a bounded in-memory queue. One background task
connects to NATS (retrying forever, without holding up start-up), takes whatever the queue holds (up to
batch_size events), publishes it as one EventBatch message on `events.batch` (more than one only past
NATS's max payload) with a JetStream ack, and writes whatever NATS does not acknowledge to the on-disk
outbox; while the outbox holds anything, new events join it behind the older ones and it drains in
order, batch by batch, once NATS answers. Under load the queue fills while a batch awaits its ack, so
the batches grow with the load and each event costs a share of one publish, not one of its own.
A batch published again as it was is dropped by JetStream's duplicate window (its Nats-Msg-Id hashes
its events' ids); otherwise the analytics consumer skips the events it already has, so a retry never
counts an event twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.client import Client
from nats.js import JetStreamContext

from tuneway.core.nats import EVENTS_STREAM, connect, ensure_stream
from tuneway.gateway.analytics.batches import BATCH_SUBJECT, pack
from tuneway.gateway.analytics.metrics import EVENTS_DROPPED, EVENTS_PUBLISHED
from tuneway.gateway.analytics.outbox import Outbox, OutgoingEvent

log = logging.getLogger(__name__)

STREAM = EVENTS_STREAM.name or "EVENTS"


class EventPublisher:
    """The background publisher; `start` it, `submit` events, `stop` it (flushing to the outbox)."""

    def __init__(
        self,
        nats_url: str,
        outbox: Outbox,
        *,
        queue_size: int = 10_000,
        batch_size: int = 256,
        linger_seconds: float = 0.1,
        publish_timeout: float = 2.0,
        retry_seconds: float = 1.0,
    ) -> None:
        self._url = nats_url
        self._outbox = outbox
        self._queue: asyncio.Queue[OutgoingEvent] = asyncio.Queue(queue_size)
        self._batch_size = batch_size
        self._linger = linger_seconds
        self._timeout = publish_timeout
        self._retry = retry_seconds
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        # Taken off the queue and not yet acknowledged or in the outbox: what stop() must not lose.
        self._in_flight: list[OutgoingEvent] = []
        self._tasks: list[asyncio.Task[None]] = []

    def submit(self, event: OutgoingEvent) -> None:
        """Queues `event` for publishing; never waits (a full queue drops it, counted and logged)."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            EVENTS_DROPPED.labels("queue_full").inc()
            log.warning("analytics event queue full: dropped an event", extra={"msg_id": event.msg_id})

    async def start(self) -> None:
        """Starts connecting and publishing in the background; returns at once."""
        self._tasks = [
            asyncio.create_task(self._connect(), name="analytics-nats-connect"),
            asyncio.create_task(self._publish_loop(), name="analytics-publisher"),
        ]

    async def stop(self) -> None:
        """Stops publishing and keeps what was not acknowledged (in flight and queued) in the outbox."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        pending = list(self._in_flight)
        while not self._queue.empty():
            pending.append(self._queue.get_nowait())
        # In-flight events may have reached the stream already; the duplicate window drops the copy.
        await self._outbox.append(pending)
        self._in_flight = []
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._outbox.close()

    async def _connect(self) -> None:
        delay = 0.2
        while self._js is None:
            try:
                nc = await connect(self._url, "gateway-analytics")
                js = nc.jetstream(timeout=self._timeout)
                await ensure_stream(js, EVENTS_STREAM)
                self._nc, self._js = nc, js
                log.info("analytics publisher connected to NATS")
            except Exception as error:
                log.warning("analytics events wait for NATS: %s", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    @property
    def connected(self) -> bool:
        """Whether NATS is connected now (events go straight to the stream unless the outbox is busy)."""
        return self._js is not None and self._nc is not None and self._nc.is_connected

    @property
    def idle(self) -> bool:
        """Nothing queued in memory and nothing being published."""
        return self._queue.empty() and not self._in_flight

    @property
    def outbox(self) -> Outbox:
        """The outbox this publisher writes to."""
        return self._outbox

    async def _next_batch(self) -> list[OutgoingEvent]:
        """Up to batch_size queued events, waiting at most retry_seconds for the first, then up to
        linger_seconds for more."""
        try:
            async with asyncio.timeout(self._retry):
                first = await self._queue.get()
        except TimeoutError:
            return []
        self._in_flight = [first]
        if self._queue.qsize() < self._batch_size - 1:
            # A message costs a JetStream round trip and socket calls, about the same for one event as
            # for dozens (bench/analytics_publish_cpu.py): lingering lets more events join at low load,
            # and lets the reply of the request that submitted the event go out first. A full batch
            # does not wait, so the linger never caps the rate.
            await asyncio.sleep(self._linger)
        while len(self._in_flight) < self._batch_size and not self._queue.empty():
            self._in_flight.append(self._queue.get_nowait())
        return self._in_flight

    async def _publish_loop(self) -> None:
        while True:
            batch = await self._next_batch()
            if self._outbox.count or not self.connected:
                # Behind older events (or no NATS): join the line on disk.
                await self._outbox.append(batch)
                self._in_flight = []
                if self.connected and not await self._drain_outbox():
                    await asyncio.sleep(self._retry)
                continue
            if batch:
                failed = [e for e, ok in zip(batch, await self._publish(batch), strict=True) if not ok]
                await self._outbox.append(failed)
                self._in_flight = []

    async def _drain_outbox(self) -> bool:
        """Publishes the outbox oldest first until it is empty (True) or NATS fails (False)."""
        while self._outbox.count:
            stored = await self._outbox.oldest(self._batch_size)
            if not stored:
                return True
            acked = await self._publish([s.event for s in stored])
            await self._outbox.remove([s.seq for s, ok in zip(stored, acked, strict=True) if ok])
            if not all(acked):
                return False
        return True

    async def _publish(self, events: list[OutgoingEvent]) -> list[bool]:
        """Publishes `events` packed into EventBatch messages (concurrently when they need several);
        whether JetStream acknowledged each event's batch."""
        js, nc = self._js, self._nc
        if js is None or nc is None:
            return [False] * len(events)
        batches = pack(events, nc.max_payload)
        results = await asyncio.gather(
            *(
                js.publish(
                    BATCH_SUBJECT,
                    b.data,
                    timeout=self._timeout,
                    stream=STREAM,
                    headers={"Nats-Msg-Id": b.msg_id},
                )
                for b in batches
            ),
            return_exceptions=True,
        )
        acked_by_id: dict[tuple[str, str], bool] = {}
        for batch, result in zip(batches, results, strict=True):
            ok = not isinstance(result, BaseException)
            for event in batch.events:
                acked_by_id[event.subject, event.msg_id] = ok
                if ok:
                    EVENTS_PUBLISHED.labels(event.subject).inc()
        acked = [acked_by_id[e.subject, e.msg_id] for e in events]
        failures = len(events) - sum(acked)
        if failures:
            first_error = next(r for r in results if isinstance(r, BaseException))
            log.warning("analytics events not acknowledged by NATS: %d (%s)", failures, first_error)
        return acked
