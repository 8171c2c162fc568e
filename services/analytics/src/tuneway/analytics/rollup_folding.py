"""Folds the hourly rollup rows of closed days into daily rows: at start, then every interval.

Batches write hourly rows only for days not folded yet, which halves the rollup rows of live traffic
(every event of a batch is in the current day); summaries read the daily rows of folded days and the
hourly rows of the rest (`summaries.plan`). A day is folded once it ended `grace_ms` ago; an event that
arrives for a folded day later still counts, in both its hourly and its daily row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.domain import DAY_MS
from tuneway.analytics.repository import folds

log = logging.getLogger(__name__)


async def fold_closed_days(
    sessions: async_sessionmaker[AsyncSession], now_ms: int, grace_ms: int
) -> tuple[int, int]:
    """Folds every day that ended at least `grace_ms` before `now_ms`; returns the days folded (from, to)."""
    closed = now_ms - grace_ms
    async with sessions() as session, session.begin():
        return await folds.fold(session, closed - closed % DAY_MS)


class FoldingTask:
    """Runs `fold_closed_days` at start and then every `interval_seconds` until stopped."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], grace_seconds: float, interval_seconds: float
    ) -> None:
        self._sessions = sessions
        self._grace_ms = int(grace_seconds * 1000)
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="analytics-rollup-folding")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                start, end = await fold_closed_days(self._sessions, int(time.time() * 1000), self._grace_ms)
                if end > start:
                    log.info("folded daily rollups", extra={"from_ms": start, "to_ms": end})
            except Exception as error:
                log.warning("folding daily rollups failed, trying again later: %s", error)
            await asyncio.sleep(self._interval)
