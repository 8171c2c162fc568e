"""The queue-depth and running-jobs gauges, counted from the jobs table every few seconds."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.trainer import domain as d
from tuneway.trainer.metrics import JOBS_QUEUED, JOBS_RUNNING
from tuneway.trainer.repository import jobs as job_repo

log = logging.getLogger(__name__)


class JobGauges:
    """Counts queued and running jobs. The table rather than the TRAINING stream: a job handed back
    or waiting for redelivery is still queued there, and running is a status only the table has."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def refresh(self) -> None:
        """Sets both gauges from the table now."""
        async with self._sessions() as s:
            counts = await job_repo.count_jobs_by_status(s, (d.QUEUED, d.RUNNING))
        JOBS_QUEUED.set(counts[d.QUEUED])
        JOBS_RUNNING.set(counts[d.RUNNING])

    async def run(self, interval_seconds: float, stop: asyncio.Event) -> None:
        """Refreshes until `stop` is set; a failed count is logged and retried at the next tick."""
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception:
                log.exception("counting jobs for the metrics failed")
            try:
                await asyncio.wait_for(stop.wait(), interval_seconds)
            except TimeoutError:
                pass
