"""Queued jobs to the TRAINING stream: published from the database (tuneway.core.dispatch), so a NATS
outage or a restart delays a job but never loses it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.dispatch import Dispatcher
from tuneway.trainer.models import JobRow
from tuneway.trainer.repository import jobs as job_repo

# publish(job_id, tenant_id, msg_id) -> stored (False: a duplicate of msg_id).
Publish = Callable[[str, str, str], Awaitable[bool]]


def message_id(row: JobRow) -> str:
    """The Nats-Msg-Id of the job's request: JetStream drops a repeat within its duplicate window, so
    replicas racing on one job, or a retry after a lost ack, store it once."""
    return f"{row.schedule_id}@{row.scheduled_for}" if row.schedule_id else row.id


class JobDispatcher(Dispatcher[JobRow]):
    """Publishes every queued job not yet dispatched; `kick` it when a job was queued."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], publish: Publish, retry_seconds: float
    ) -> None:
        super().__init__(sessions, retry_seconds, "queued jobs wait for the TRAINING stream")
        self._publish = publish

    async def pending(self, session: AsyncSession, limit: int) -> Sequence[JobRow]:
        return await job_repo.undispatched_jobs(session, limit)

    async def publish(self, row: JobRow) -> None:
        await self._publish(row.id, row.tenant_id, message_id(row))

    async def mark_published(self, session: AsyncSession, row: JobRow, now: int) -> None:
        await job_repo.mark_dispatched(session, row.id, now)
