"""Created batches to the BATCHES stream: published from the database (tuneway.core.dispatch), so a NATS
outage or a gateway restart delays a batch but never loses it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.dispatch import Dispatcher
from tuneway.gateway.batches import repository as repo
from tuneway.gateway.batches.tables import Batch

# publish(batch_id, tenant_id) -> stored (False: a duplicate).
Publish = Callable[[str, str], Awaitable[bool]]


class BatchDispatcher(Dispatcher[Batch]):
    """Publishes every batch not yet dispatched; `kick` it when a batch was created."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], publish: Publish, retry_seconds: float
    ) -> None:
        super().__init__(sessions, retry_seconds, "new batches wait for the BATCHES stream")
        self._publish = publish

    async def pending(self, session: AsyncSession, limit: int) -> Sequence[Batch]:
        return await repo.undispatched(session, limit)

    async def publish(self, row: Batch) -> None:
        await self._publish(row.id, row.tenant_id)

    async def mark_published(self, session: AsyncSession, row: Batch, now: int) -> None:
        await repo.mark_dispatched(session, row.id, now)
