"""The store's write path: one batch of classified completions and feedback in one transaction.

Only completion events that are new to the store add to the rollups, so a redelivered or re-published
event is never counted twice. Feedback counts in the rollup row of the completion it judges: at once
when that completion is stored, else when it arrives; a later submission by the same user replaces
the earlier one (its contribution is subtracted), an older one arriving late changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.dimensions import dimensions, knowledge_ran
from tuneway.analytics.domain import DIMENSIONS, FeedbackRecord
from tuneway.analytics.feedback_value import NONE, contribution
from tuneway.analytics.query_types.taxonomy import HUMAN
from tuneway.analytics.repository import events as event_rows
from tuneway.analytics.repository import feedback as feedback_rows
from tuneway.analytics.repository import folds, rollups, tenants
from tuneway.analytics.repository.bulk import is_postgresql
from tuneway.analytics.repository.events import EVENT_COLUMNS
from tuneway.analytics.rollup_batch import RollupBatch
from tuneway.api.events.v1 import events_pb2
from tuneway.core.pii import scrub_pii

HUMAN_QUERY_TYPE = HUMAN


@dataclass(frozen=True)
class ClassifiedCompletion:
    event: events_pb2.CompletionEvent
    query_type: str


@dataclass
class IngestResult:
    """What a committed batch changed, for the metrics."""

    new_completions: list[ClassifiedCompletion] = field(default_factory=list)
    duplicate_completions: int = 0
    # Feedback that replaced nothing newer, with its completion's dimensions when that is stored.
    new_feedback: list[tuple[FeedbackRecord, tuple[str, ...] | None]] = field(default_factory=list)
    duplicate_feedback: int = 0
    newest_created_at_ms: int = 0


def feedback_record(message: events_pb2.FeedbackEvent) -> FeedbackRecord:
    return FeedbackRecord(
        feedback_id=message.feedback_id,
        tenant_id=message.tenant_id,
        completion_id=message.completion_id,
        user=message.user,
        created_at_ms=message.created_at_ms,
        rating=message.rating,
        score=message.score,
        scale=message.scale,
        label=message.label,
        comment=message.comment,
        api_key_id=message.api_key_id,
    )


# (tenant_id, request_id) of a completion
Key = tuple[str, str]
# A completion's (created_at_ms, dimension values): where it counts in the rollups.
Placed = tuple[int, tuple[str, ...]]


@dataclass
class _Batch:
    """A batch as the transaction sees it before its rollup rows are built."""

    unique: dict[Key, ClassifiedCompletion]
    dims_of: dict[Key, tuple[str, ...]]
    # Stored feedback on the batch's completions (it counts when its completion is new).
    early: list[FeedbackRecord]
    # Feedback that replaces what was stored for its (tenant, completion, user): (latest, replaced).
    changed: list[tuple[FeedbackRecord, FeedbackRecord | None]]
    judged: set[Key]


class EventWriter:
    """Writes batches; `human_type` is the query type that means "asks for a human".

    The rollup rows (numpy, `rollup_batch.py`) are built in a worker thread while the database inserts
    the events: on the assumption that every completion of the batch is new, which is checked when the
    insert returns (a redelivered batch builds them again from what the insert found new).
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], human_type: str = HUMAN_QUERY_TYPE
    ) -> None:
        self._sessions = sessions
        self._human_type = human_type

    async def write(
        self, completions: Sequence[ClassifiedCompletion], feedback: Sequence[events_pb2.FeedbackEvent]
    ) -> IngestResult:
        """Writes everything in one transaction; raises (writing nothing) if the database fails."""
        result = IngestResult()
        async with self._sessions() as session, session.begin():
            # First: no fold moves the mark until this batch commits (and SQLite's write lock is ours).
            folded_until = await folds.folded_until(session, lock=True)
            batch, to_insert, stored = await self._read(session, completions, feedback, result)
            # Assuming every completion is new: the feedback's completions are in this batch or stored
            # (where a stored one counts).
            placed = {key: self._placed(batch, key) for key in batch.judged & batch.unique.keys()}
            placed.update(stored)
            # A zero measure is NULL on PostgreSQL only (RollupBatch.rows says why).
            nulls = is_postgresql(session)
            building = asyncio.create_task(
                asyncio.to_thread(
                    self._rollups(batch, list(batch.unique), placed).rows, folded_until, zeros_as_null=nulls
                )
            )
            try:
                inserted = await event_rows.insert_new(session, to_insert)
                await feedback_rows.upsert_latest(session, [latest for latest, _ in batch.changed])
            finally:
                rows = await building
            new = [key for key in batch.unique if key in inserted]  # in arrival order
            if len(new) < len(batch.unique):
                # Some were stored already (a redelivery): they and their feedback count nothing now.
                placed = await event_rows.dimensions_of(session, batch.judged)
                rows = self._rollups(batch, new, placed).rows(folded_until, zeros_as_null=nulls)
            await rollups.add(session, rows)
        self._report(batch, new, placed, result)
        return result

    async def _read(
        self,
        session: AsyncSession,
        completions: Sequence[ClassifiedCompletion],
        feedback: Sequence[events_pb2.FeedbackEvent],
        result: IngestResult,
    ) -> tuple[_Batch, list[tuple[object, ...]], dict[Key, Placed]]:
        """The batch's rows and what the store holds for it: (the batch, its event rows, the stored
        completions its feedback judges)."""
        unique = {(c.event.tenant_id, c.event.request_id): c for c in completions}
        result.duplicate_completions = len(completions) - len(unique)
        keep_text = await tenants.settings(session, {tenant for tenant, _ in unique}) if unique else {}
        dims_of = {key: dimensions(c.event, c.query_type) for key, c in unique.items()}
        rows = [_event_row(c, dims_of[key], keep_text[key[0]].keep_message_text) for key, c in unique.items()]
        # Feedback that arrived before its completion counts when the completion is new.
        early = await feedback_rows.for_completions(session, unique)
        records = [feedback_record(m) for m in feedback]
        judged = {(r.tenant_id, r.completion_id) for r in records}
        stored = await feedback_rows.for_completions(session, judged, lock=True)
        before = {(r.tenant_id, r.completion_id, r.user): r for r in stored}
        current = dict(before)
        for record in records:
            key = (record.tenant_id, record.completion_id, record.user)
            latest = current.get(key)
            if latest is not None and record.feedback_id == latest.feedback_id:
                result.duplicate_feedback += 1
            elif latest is None or record.created_at_ms > latest.created_at_ms:
                current[key] = record
        changed = [
            (latest, before.get(key)) for key, latest in current.items() if before.get(key) is not latest
        ]
        placed = await event_rows.dimensions_of(session, judged)
        return _Batch(unique, dims_of, early, changed, judged), rows, placed

    @staticmethod
    def _placed(batch: _Batch, key: Key) -> Placed:
        return batch.unique[key].event.created_at_ms, batch.dims_of[key]

    def _rollups(self, batch: _Batch, new: Sequence[Key], placed: Mapping[Key, Placed]) -> RollupBatch:
        """The rollup additions of the completions `new` (with the stored feedback on them) and of the
        changed feedback whose completion is in `placed`."""
        rollup = RollupBatch()
        completions = [batch.unique[key] for key in new]
        rollup.add_events(
            [c.event for c in completions],
            [batch.dims_of[key] for key in new],
            [c.query_type == self._human_type for c in completions],
        )
        fresh = set(new)
        for record in batch.early:
            key = (record.tenant_id, record.completion_id)
            if key in fresh:
                rollup.add_feedback(record.tenant_id, *self._placed(batch, key), contribution(record))
        for latest, replaced in batch.changed:
            where = placed.get((latest.tenant_id, latest.completion_id))
            if where is not None:
                delta = contribution(latest).minus(contribution(replaced) if replaced else NONE)
                rollup.add_feedback(latest.tenant_id, *where, delta)
        return rollup

    def _report(
        self, batch: _Batch, new: Sequence[Key], placed: Mapping[Key, Placed], result: IngestResult
    ) -> None:
        result.duplicate_completions += len(batch.unique) - len(new)
        result.new_completions = [batch.unique[key] for key in new]
        if new:
            result.newest_created_at_ms = max(c.event.created_at_ms for c in result.new_completions)
        for latest, _ in batch.changed:
            where = placed.get((latest.tenant_id, latest.completion_id))
            result.new_feedback.append((latest, where[1] if where is not None else None))


def _event_row(
    completion: ClassifiedCompletion, dims: tuple[str, ...], keep_text: bool
) -> tuple[object, ...]:
    """The event's row in EVENT_COLUMNS' order."""
    event = completion.event
    text = scrub_pii(event.last_user_message)[0] if keep_text and event.last_user_message else None
    # EVENT_COLUMNS' order (the table's); _ROW_ORDER below names it and is checked at import.
    return (
        event.tenant_id,
        event.request_id,
        event.created_at_ms,
        *dims,
        event.experiment_id,
        event.status,
        event.error_code,
        event.user,
        event.conversation_id,
        event.prompt_tokens,
        event.completion_tokens,
        event.latency_ms,
        event.time_to_first_token_ms,
        knowledge_ran(event),
        event.knowledge_no_answer,
        replace_message(event),
        text,
    )


_ROW_ORDER = (
    "tenant_id",
    "request_id",
    "created_at_ms",
    *DIMENSIONS,
    "experiment_id",
    "status",
    "error_code",
    "user",
    "conversation_id",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "time_to_first_token_ms",
    "knowledge_ran",
    "knowledge_no_answer",
    "payload",
    "message_text",
)
if _ROW_ORDER != EVENT_COLUMNS:
    raise RuntimeError("_event_row must follow the events table's column order")


def replace_message(event: events_pb2.CompletionEvent) -> bytes:
    """The event serialised without its last user message (kept, scrubbed, in its own column if at all)."""
    if not event.last_user_message:
        return event.SerializeToString()
    copy = events_pb2.CompletionEvent()
    copy.CopyFrom(event)
    copy.ClearField("last_user_message")
    return copy.SerializeToString()


__all__ = ["ClassifiedCompletion", "EventWriter", "IngestResult", "feedback_record"]
