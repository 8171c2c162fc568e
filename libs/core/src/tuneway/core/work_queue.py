"""A worker's side of a JetStream work queue: one durable pull consumer shared by every worker process,
one message at a time per process. A message is acked when its work is done, handed back (nak) when the
worker stops first, and redelivered after the ack wait when the worker dies; the database row the
message names says who owns the work, so a duplicate delivery is told apart from a dead worker's.
Each service says how a message is claimed and how its work runs; the subscription, the pull loop and
the claim's outcomes live here once."""

from __future__ import annotations

import abc
import asyncio
import enum
import logging
from typing import Generic, TypeVar

from google.protobuf.message import Message
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from tuneway.core.nats import ensure_consumer, ensure_stream

log = logging.getLogger(__name__)

Request = TypeVar("Request", bound=Message)


class Claim(enum.Enum):
    """What a worker may do with a delivered request."""

    RUN = "run"  # this worker owns the work now
    DROP = "drop"  # nothing is left to do (finished, or not in this database): ack it
    BUSY = "busy"  # another live worker runs it (a duplicate delivery): hand it back for later


class WorkQueueConsumer(abc.ABC, Generic[Request]):
    """Pulls `request_type` messages from `stream`'s durable consumer and runs them one by one."""

    # The protobuf each message holds.
    request_type: type[Request]

    def __init__(
        self,
        nc: Client,
        stream: StreamConfig,
        durable: str,
        subject: str,
        ack_wait_seconds: float,
        *,
        max_ack_pending: int,
        max_deliver: int | None = None,
    ) -> None:
        self._js = nc.jetstream()
        self._stream = stream
        self._durable = durable
        self._subject = subject
        self._ack_wait = ack_wait_seconds
        self._max_ack_pending = max_ack_pending
        self._max_deliver = max_deliver

    @abc.abstractmethod
    async def claim(self, request: Request) -> Claim:
        """Whether this worker runs `request` now (taking ownership in the database if so)."""

    @abc.abstractmethod
    async def work(self, request: Request, msg: Msg, stop: asyncio.Event) -> None:
        """Runs a claimed request to its end and acks `msg`, or hands it back (nak) when `stop` is set
        first; keeps the message alive meanwhile (`msg.in_progress()` within the ack wait)."""

    async def subscribe(self) -> object:
        """The durable pull subscription, created (or brought to this worker's settings) first."""
        await ensure_stream(self._js, self._stream)
        config = ConsumerConfig(
            durable_name=self._durable,
            name=self._durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            max_deliver=self._max_deliver,
            filter_subject=self._subject,
            max_ack_pending=self._max_ack_pending,
        )
        stream = self._stream.name or ""
        await ensure_consumer(self._js, stream, config)
        return await self._js.pull_subscribe_bind(durable=self._durable, stream=stream)

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Pulls and handles requests one by one until `stop` is set."""
        subscription = await self.subscribe()
        if ready is not None:
            ready.set()
        log.info("waiting for work", extra={"consumer": self._durable})
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
        """One delivery: dropped (term) unless it holds a request; else claimed, then run, acked or
        handed back."""
        try:
            request = self.request_type.FromString(msg.data)
        except Exception:
            log.error("dropping a message that is not a %s", self.request_type.__name__)
            await msg.term()
            return
        claim = await self.claim(request)
        if claim is Claim.DROP:
            await msg.ack()
        elif claim is Claim.BUSY:
            await msg.nak(delay=self._ack_wait)
        else:
            await self.work(request, msg, stop)
