"""Rows the database holds for a stream, published from there: a request is stored first (in the
transaction that accepted it) and published by a background dispatcher, so a NATS outage or a restart
delays it but never loses it. Each service says which rows are pending, how one is published and how it
is marked; the passes, wake-ups, retries and outage logging live here once."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

Row = TypeVar("Row")


class Dispatcher(abc.ABC, Generic[Row]):
    """Publishes every pending row: at once when kicked, again every `retry_seconds` (a failed publish,
    or a row another replica stored and could not publish before it stopped)."""

    # Rows published per database read.
    page = 100

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], retry_seconds: float, waiting_for: str
    ) -> None:
        self._sessions = sessions
        self._retry_seconds = retry_seconds
        # What the log names while publishing fails, e.g. "queued jobs wait for the TRAINING stream".
        self._waiting_for = waiting_for
        self._wake = asyncio.Event()
        self._waiting = False  # the last pass failed; logged once per outage, not once per retry
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def pending(self, session: AsyncSession, limit: int) -> Sequence[Row]:
        """Up to `limit` rows not yet published, oldest first."""

    @abc.abstractmethod
    async def publish(self, row: Row) -> None:
        """Publishes one row (raises when NATS does not store it)."""

    @abc.abstractmethod
    async def mark_published(self, session: AsyncSession, row: Row, now: int) -> None:
        """Records that `row` was stored by the stream at `now`."""

    def kick(self) -> None:
        """Asks for a pass now (a row was just stored, or the process is stopping)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatches until `stop` is set (and `kick` called); the first pass picks up what a stopped
        replica left."""
        while not stop.is_set():
            self._wake.clear()
            await self.dispatch()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._retry_seconds)

    def start(self) -> None:
        """Runs passes in the background until `stop`."""
        self._task = asyncio.create_task(self.run(asyncio.Event()), name=type(self).__name__)

    async def stop(self) -> None:
        """Stops the background passes (what is left is published by the next start or replica)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def dispatch(self) -> int:
        """One pass: publishes what is pending, oldest first; returns how many it published. A failure
        ends the pass (NATS is most likely down for the rest too); the next pass retries."""
        published = 0
        try:
            while True:
                async with self._sessions() as session:
                    rows = await self.pending(session, self.page)
                for row in rows:
                    await self.publish(row)
                    async with self._sessions() as session, session.begin():
                        await self.mark_published(session, row, int(time.time()))
                    published += 1
                if len(rows) < self.page:
                    break
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not self._waiting:
                log.warning("%s: %s", self._waiting_for, error or type(error).__name__)
            self._waiting = True
            return published
        if self._waiting and published:
            log.info("%s: published again", self._waiting_for, extra={"published": published})
        self._waiting = False
        return published
