"""The ingest loop: a durable pull consumer on EVENTS, one transaction per batch, then the acks.

Nothing is acknowledged before its batch is committed, and the store ignores events it already has,
so a crash at any point (before, during or after the commit) loses nothing and counts nothing twice:
unacknowledged messages come back and their already-stored events are skipped. A message holds one
event (`events.completions`, `events.feedback`) or many (`events.batch`, the gateway's EventBatch);
the same event may come in two batches (a publisher's retry grouped differently) and still counts once.
Undecodable messages are terminated (logged) so they never block the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from tuneway.analytics import metrics
from tuneway.analytics.ingest import ClassifiedCompletion, EventWriter
from tuneway.api.events.v1 import events_pb2
from tuneway.core.nats import EVENTS_STREAM, ensure_consumer

log = logging.getLogger(__name__)

DURABLE = "analytics"
COMPLETIONS_SUBJECT = "events.completions"
FEEDBACK_SUBJECT = "events.feedback"
# The gateway's EventBatch: many completion and feedback events in one message.
BATCH_SUBJECT = "events.batch"
# The query type of each completion event, in order (the retriever's embedder does the work).
Classify = Callable[[Sequence[events_pb2.CompletionEvent]], Awaitable[list[str]]]
Event = events_pb2.CompletionEvent | events_pb2.FeedbackEvent


@dataclass(frozen=True)
class ConsumerSettings:
    batch_size: int = 20_000
    fetch_timeout_seconds: float = 0.5
    ack_wait_seconds: float = 120.0
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 15.0
    pending_refresh_seconds: float = 5.0


@dataclass
class _Decoded:
    completions: list[events_pb2.CompletionEvent]
    feedback: list[events_pb2.FeedbackEvent]
    messages: list[Msg]


class EventConsumer:
    """Runs the loop as a task; `stop()` lets the batch in hand finish (commit and ack) first."""

    def __init__(
        self, js: JetStreamContext, writer: EventWriter, classify: Classify, settings: ConsumerSettings
    ) -> None:
        self._js = js
        self._writer = writer
        self._classify = classify
        self._settings = settings
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscription: JetStreamContext.PullSubscription | None = None

    async def start(self) -> None:
        """Creates the durable consumer, or brings it to these settings, binds it and starts the loop."""
        config = ConsumerConfig(
            durable_name=DURABLE,
            name=DURABLE,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._settings.ack_wait_seconds,
            max_ack_pending=max(self._settings.batch_size * 4, 1000),
        )
        stream = EVENTS_STREAM.name or ""
        await ensure_consumer(self._js, stream, config)
        self._subscription = await self._js.pull_subscribe_bind(durable=DURABLE, stream=stream)
        self._task = asyncio.create_task(self._run(), name="analytics-consumer")

    async def stop(self) -> None:
        """Stops after the current batch; unfetched messages stay in the stream for the next start."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
            self._subscription = None

    async def _run(self) -> None:
        assert self._subscription is not None
        delay = self._settings.retry_initial_seconds
        refreshed = 0.0
        while not self._stopping.is_set():
            if time.monotonic() - refreshed >= self._settings.pending_refresh_seconds:
                refreshed = time.monotonic()
                await self._refresh_pending()
            try:
                messages = await self._subscription.fetch(
                    self._settings.batch_size, timeout=self._settings.fetch_timeout_seconds
                )
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception as error:  # NATS reconnecting: wait and fetch again
                log.warning("fetching events failed: %s", error)
                await self._sleep(delay)
                continue
            try:
                await self._handle(messages)
                delay = self._settings.retry_initial_seconds
            except Exception as error:
                # Retriever or database down: nothing was committed; the messages come back.
                log.warning(
                    "ingesting %d messages failed, retrying in %.1fs: %s", len(messages), delay, error
                )
                for message in messages:
                    with contextlib.suppress(Exception):
                        await message.nak(delay=delay)
                await self._sleep(delay)
                delay = min(delay * 2, self._settings.retry_max_seconds)

    async def _handle(self, messages: list[Msg]) -> None:
        metrics.BATCH_SIZE.observe(len(messages))
        started = time.perf_counter()
        decoded = await _decode(messages)
        classified: list[ClassifiedCompletion] = []
        if decoded.completions:
            classifying = time.perf_counter()
            query_types = await self._classify(decoded.completions)
            metrics.CLASSIFICATION_SECONDS.observe(time.perf_counter() - classifying)
            classified = [
                ClassifiedCompletion(event, query_type)
                for event, query_type in zip(decoded.completions, query_types, strict=True)
            ]
        result = await self._writer.write(classified, decoded.feedback)
        # Committed: only now may the stream forget these messages.
        for message in decoded.messages:
            await message.ack()
        metrics.INGEST_SECONDS.observe(time.perf_counter() - started)
        metrics.record_batch(result)
        if result.newest_created_at_ms:
            metrics.INGEST_LAG.set(max(time.time() - result.newest_created_at_ms / 1000, 0.0))

    async def _refresh_pending(self) -> None:
        assert self._subscription is not None
        try:
            info = await self._subscription.consumer_info()
            metrics.CONSUMER_PENDING.set(info.num_pending or 0)
        except Exception as error:
            log.debug("consumer info unavailable: %s", error)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


async def _decode(messages: list[Msg]) -> _Decoded:
    """Parses each message by subject (a batch into its events); terminates (and logs) the messages
    that can never be stored, and leaves out a batch's events that cannot. An event found twice in the
    messages at hand (a publisher's retry grouped differently) is kept once; the store skips the ones
    it already has."""
    decoded = _Decoded([], [], [])
    completion_keys: set[tuple[str, str]] = set()
    for message in messages:
        try:
            if message.subject == BATCH_SUBJECT:
                events = _batch_events(events_pb2.EventBatch.FromString(message.data))
            else:
                events = [_parse(message.subject, message.data)]
        except (DecodeError, ValueError) as error:
            log.error(
                "dropping a message that cannot be stored: %s", error, extra={"subject": message.subject}
            )
            await message.term()
            continue
        for event in events:
            if isinstance(event, events_pb2.CompletionEvent):
                key = (event.tenant_id, event.request_id)
                if key not in completion_keys:
                    completion_keys.add(key)
                    decoded.completions.append(event)
            else:
                decoded.feedback.append(event)
        decoded.messages.append(message)
    return decoded


def _batch_events(batch: events_pb2.EventBatch) -> list[Event]:
    """The batch's events; a bad one is logged and left out, not taking the good ones down with it."""
    events: list[Event] = []
    for item in batch.events:
        try:
            events.append(_parse(item.subject, item.data))
        except (DecodeError, ValueError) as error:
            log.error(
                "dropping an event of a batch that cannot be stored: %s",
                error,
                extra={"subject": item.subject, "msg_id": item.msg_id},
            )
    return events


def _parse(subject: str, data: bytes) -> Event:
    """One event by its subject; raises DecodeError or ValueError when it can never be stored."""
    if subject == COMPLETIONS_SUBJECT:
        event = events_pb2.CompletionEvent.FromString(data)
        _require(event.tenant_id and event.request_id, "tenant_id and request_id")
        return event
    if subject == FEEDBACK_SUBJECT:
        feedback = events_pb2.FeedbackEvent.FromString(data)
        _require(feedback.tenant_id and feedback.completion_id, "tenant_id and completion_id")
        return feedback
    raise ValueError(f"unexpected subject {subject}")


def _require(present: object, what: str) -> None:
    if not present:
        raise ValueError(f"the event has no {what}")
