"""The latest feedback per (tenant, completion, user): reads and the upsert that keeps the newest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.analytics.domain import FeedbackRecord
from tuneway.analytics.models import feedback
from tuneway.analytics.repository.bulk import by_keys
from tuneway.analytics.repository.dialect import upsert_insert

_FIELDS = tuple(FeedbackRecord.__dataclass_fields__)


async def for_completions(
    session: AsyncSession, keys: Iterable[tuple[str, str]], *, lock: bool = False
) -> list[FeedbackRecord]:
    """The stored feedback on any of the completions `keys` (tenant, completion id), of any tenants, in
    one query (locked for update on PostgreSQL if asked)."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    columns = [feedback.c[name] for name in _FIELDS]
    statement = by_keys(session, feedback, columns, "completion_id", wanted, lock=lock)
    result = await session.execute(statement)
    return [FeedbackRecord(*row) for row in result.all()]


async def upsert_latest(session: AsyncSession, records: Sequence[FeedbackRecord]) -> None:
    """Writes each record unless a newer one for its (tenant, completion, user) is already stored."""
    if not records:
        return
    statement = upsert_insert(session, feedback)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "completion_id", "user"],
        set_={
            name: statement.excluded[name]
            for name in _FIELDS
            if name not in ("tenant_id", "completion_id", "user")
        },
        where=statement.excluded.created_at_ms > feedback.c.created_at_ms,
    )
    # Not dataclasses.asdict: it deep-copies every field, a cost the batch's thousands of records add up.
    await session.execute(
        statement, [{name: getattr(record, name) for name in _FIELDS} for record in records]
    )


async def delete_older_than(session: AsyncSession, cutoff_ms: int) -> int:
    """Deletes feedback created before `cutoff_ms` (its completion's raw event is gone by then)."""
    result = await session.execute(delete(feedback).where(feedback.c.created_at_ms < cutoff_ms))
    return int(getattr(result, "rowcount", 0) or 0)
