"""Created batches to the BATCHES stream: published from the database, so a NATS outage or a gateway
restart delays a batch but never loses it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.gateway.batches import repository as repo

log = logging.getLogger(__name__)

# publish(batch_id, tenant_id) -> stored (False: a duplicate).
Publish = Callable[[str, str], Awaitable[bool]]
# Batches published per database read.
PAGE = 100


class BatchDispatcher:
    """Publishes every batch not yet dispatched: at once when kicked, again every `retry_seconds` (a
    failed publish, or a batch another replica stored and could not publish before it stopped)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], publish: Publish, retry_seconds: float
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._retry_seconds = retry_seconds
        self._wake = asyncio.Event()
        self._waiting = False  # the last pass failed; logged once per outage, not once per retry
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Asks for a pass now (a batch was just created)."""
        self._wake.set()

    def start(self) -> None:
        """Runs passes in the background until `stop`."""
        self._task = asyncio.create_task(self._run(), name="batch-dispatcher")

    async def stop(self) -> None:
        """Stops the background passes (what is left is published by the next start or replica)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            await self.dispatch()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._retry_seconds)

    async def dispatch(self) -> int:
        """One pass: publishes what is pending, oldest first; returns how many it published. A failure
        ends the pass (NATS is most likely down for the rest too); the next pass retries."""
        published = 0
        try:
            while True:
                async with self._sessions() as session:
                    rows = await repo.undispatched(session, PAGE)
                for row in rows:
                    await self._publish(row.id, row.tenant_id)
                    async with self._sessions() as session, session.begin():
                        await repo.mark_dispatched(session, row.id, int(time.time()))
                    published += 1
                if len(rows) < PAGE:
                    break
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not self._waiting:
                log.warning("new batches wait for the BATCHES stream: %s", error or type(error).__name__)
            self._waiting = True
            return published
        if self._waiting and published:
            log.info("the BATCHES stream is back", extra={"published": published})
        self._waiting = False
        return published
