"""Batches as OpenAI defines them: create (validated, then queued for a worker), retrieve, list, cancel."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from tuneway.gateway.batches import repository as repo
from tuneway.gateway.batches import statuses as st
from tuneway.gateway.batches.schemas import CreateBatchBody
from tuneway.gateway.batches.tables import Batch
from tuneway.gateway.files.service import FileService
from tuneway.gateway.tenancy.keys import Principal

BATCH_PURPOSE = "batch"
MAX_LIST_LIMIT = 100
# What new_batch_id makes: anything else is no batch of ours, answered without a query (a NUL byte
# would otherwise reach PostgreSQL, which refuses it in text).
BATCH_ID = re.compile(r"batch_[0-9a-f]{24}")


def new_batch_id() -> str:
    """batch_<24 hex>: the creation time in milliseconds, then random. Lists order by (created_at, id),
    and created_at has whole seconds: the time in the id keeps batches of one second in creation order."""
    return f"batch_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


def batch_not_found(batch_id: str) -> NotFoundError:
    """A batch that does not exist, or belongs to another tenant."""
    return NotFoundError(f"No batch found with id '{batch_id}'.", param="batch_id", code="not_found")


class BatchService:
    """Batches per tenant in the gateway database; `kick` wakes the dispatcher that queues new ones."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], files: FileService, kick: Callable[[], None]
    ) -> None:
        self._sessions = sessions
        self._files = files
        self._kick = kick

    async def create(self, principal: Principal, body: CreateBatchBody) -> Batch:
        """A new batch in `validating`, stored before it is queued: NATS down delays it, never loses it."""
        tenant_id = principal.tenant_id
        try:
            record = await self._files.get(tenant_id, body.input_file_id, "input_file_id")
        except NotFoundError:
            raise InvalidArgumentError(
                f"Invalid 'input_file_id': no file '{body.input_file_id}'.",
                param="input_file_id",
                code="invalid_value",
            ) from None
        if record.purpose != BATCH_PURPOSE:
            raise InvalidArgumentError(
                f"Invalid 'input_file_id': {record.id} was uploaded with purpose '{record.purpose}'; "
                f"a batch needs purpose '{BATCH_PURPOSE}'.",
                param="input_file_id",
                code="invalid_value",
            )
        now = int(time.time())
        batch = Batch(
            id=new_batch_id(),
            tenant_id=tenant_id,
            api_key_id=principal.key_id,
            endpoint=body.endpoint,
            input_file_id=record.id,
            completion_window=body.completion_window,
            status=st.VALIDATING,
            batch_metadata=body.metadata,
            total=0,
            completed=0,
            failed=0,
            input_tokens=0,
            output_tokens=0,
            created_at=now,
            expires_at=now + st.WINDOW_SECONDS[body.completion_window],
            worker_id="",
            heartbeat_at=0.0,
        )
        async with self._sessions() as session:
            session.add(batch)
            await session.commit()
        self._kick()
        return batch

    async def get(self, tenant_id: str, batch_id: str) -> Batch:
        """The tenant's batch; 404 for a missing one and for another tenant's."""
        batch = None
        if BATCH_ID.fullmatch(batch_id):
            async with self._sessions() as session:
                batch = await repo.get_batch(session, tenant_id, batch_id)
        if batch is None:
            raise batch_not_found(batch_id)
        return batch

    async def list(self, tenant_id: str, *, after: str | None, limit: int) -> tuple[Sequence[Batch], bool]:
        """A page of the tenant's batches, newest first, and whether more follow."""
        async with self._sessions() as session:
            cursor = None
            if after:
                cursor = (
                    await repo.get_batch(session, tenant_id, after) if BATCH_ID.fullmatch(after) else None
                )
                if cursor is None:
                    raise InvalidArgumentError(
                        f"Invalid value for 'after': no batch '{after}'.", param="after", code="invalid_value"
                    )
            rows = await repo.list_batches(session, tenant_id, after=cursor, limit=limit + 1)
        return rows[:limit], len(rows) > limit

    async def cancel(self, tenant_id: str, batch_id: str) -> Batch:
        """Moves the batch to `cancelling`; its worker stops taking lines and ends it `cancelled` with
        the results so far. Cancelling a batch already cancelling answers it as it is."""
        await self.get(tenant_id, batch_id)
        async with self._sessions() as session, session.begin():
            batch = await repo.lock_batch(session, batch_id)
            assert batch is not None
            if batch.status in st.CANCELLABLE:
                batch.status, batch.cancelling_at = st.CANCELLING, int(time.time())
            elif batch.status != st.CANCELLING:
                raise FailedPreconditionError(
                    f"Cannot cancel a batch with status '{batch.status}'.",
                    param="batch_id",
                    code="batch_not_cancellable",
                )
        return batch
