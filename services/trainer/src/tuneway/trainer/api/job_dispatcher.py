"""Queued jobs to the TRAINING stream: published from the database, so a NATS outage or a restart
delays a job but never loses it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.trainer.models import JobRow
from tuneway.trainer.repository import jobs as job_repo

log = logging.getLogger(__name__)

# publish(job_id, tenant_id, msg_id) -> stored (False: a duplicate of msg_id).
Publish = Callable[[str, str, str], Awaitable[bool]]
# Jobs published per database read.
BATCH = 100


def message_id(row: JobRow) -> str:
    """The Nats-Msg-Id of the job's request: JetStream drops a repeat within its duplicate window, so
    replicas racing on one job, or a retry after a lost ack, store it once."""
    return f"{row.schedule_id}@{row.scheduled_for}" if row.schedule_id else row.id


class JobDispatcher:
    """Publishes every queued job not yet dispatched: at once when kicked, again every `retry_seconds`
    (a failed publish, or a job another replica queued and could not publish before it stopped)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], publish: Publish, retry_seconds: float
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._retry_seconds = retry_seconds
        self._wake = asyncio.Event()
        self._waiting = False  # the last pass failed; logged once per outage, not once per retry

    def kick(self) -> None:
        """Asks for a pass now (a job was just queued, or the replica is stopping)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatches until `stop` is set (and `kick` called); the first pass picks up what a stopped
        replica left."""
        while not stop.is_set():
            self._wake.clear()
            await self.dispatch()
            try:
                await asyncio.wait_for(self._wake.wait(), self._retry_seconds)
            except TimeoutError:
                pass

    async def dispatch(self) -> int:
        """One pass: publishes what is pending, oldest first; returns how many it published. A failure
        ends the pass (NATS is most likely down for the rest too); the next pass retries."""
        published = 0
        try:
            while True:
                async with self._sessions() as s:
                    rows = await job_repo.undispatched_jobs(s, BATCH)
                for row in rows:
                    await self._publish(row.id, row.tenant_id, message_id(row))
                    async with self._sessions() as s, s.begin():
                        await job_repo.mark_dispatched(s, row.id, int(time.time()))
                    published += 1
                if len(rows) < BATCH:
                    break
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not self._waiting:
                log.warning("queued jobs wait for the TRAINING stream: %s", error or type(error).__name__)
            self._waiting = True
            return published
        if self._waiting and published:
            log.info("the TRAINING stream is back", extra={"published": published})
        self._waiting = False
        return published
