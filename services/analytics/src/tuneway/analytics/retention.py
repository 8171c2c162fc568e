"""Deletes raw events (and their feedback) older than the retention; rollups stay for good."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.domain import DAY_MS
from tuneway.analytics.repository import events, feedback

log = logging.getLogger(__name__)


async def delete_expired(sessions: async_sessionmaker[AsyncSession], retention_days: int, now_ms: int) -> int:
    """Deletes every tenant's raw events and feedback older than `retention_days`; 0 days keeps all."""
    if retention_days <= 0:
        return 0
    cutoff = now_ms - retention_days * DAY_MS
    async with sessions() as session, session.begin():
        deleted = await events.delete_older_than(session, cutoff)
        await feedback.delete_older_than(session, cutoff)
    return deleted


class RetentionTask:
    """Runs `delete_expired` at start and then every `interval_seconds` until stopped."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], retention_days: int, interval_seconds: float
    ) -> None:
        self._sessions = sessions
        self._days = retention_days
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="analytics-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                deleted = await delete_expired(self._sessions, self._days, int(time.time() * 1000))
                if deleted:
                    log.info("deleted expired raw events", extra={"deleted": deleted})
            except Exception as error:
                log.warning("retention failed, trying again later: %s", error)
            await asyncio.sleep(self._interval)
