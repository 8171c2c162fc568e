"""The store's write path: one batch of classified completions and feedback in one transaction.

Only completion events that are new to the store add to the rollups, so a redelivered or re-published
event is never counted twice. Feedback counts in the rollup row of the completion it judges: at once
when that completion is stored, else when it arrives; a later submission by the same user replaces
the earlier one (its contribution is subtracted), an older one arriving late changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.dimensions import dimensions, knowledge_ran
from tuneway.analytics.domain import DIMENSIONS, FeedbackRecord
from tuneway.analytics.feedback_value import NONE, contribution
from tuneway.analytics.query_types.taxonomy import HUMAN
from tuneway.analytics.repository import events as event_rows
from tuneway.analytics.repository import feedback as feedback_rows
from tuneway.analytics.repository import folds, rollups, tenants
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


class EventWriter:
    """Writes batches; `human_type` is the query type that means "asks for a human"."""

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
            batch = RollupBatch()
            await self._write_completions(session, completions, batch, result)
            await self._write_feedback(session, [feedback_record(m) for m in feedback], batch, result)
            # After the batch's first write (SQLite's write lock), locked against a fold on PostgreSQL.
            folded_until = await folds.folded_until(session, lock=True)
            await rollups.add(session, batch.rows(folded_until))
        return result

    async def _write_completions(
        self,
        session: AsyncSession,
        completions: Sequence[ClassifiedCompletion],
        batch: RollupBatch,
        result: IngestResult,
    ) -> None:
        unique = {(c.event.tenant_id, c.event.request_id): c for c in completions}
        result.duplicate_completions = len(completions) - len(unique)
        if not unique:
            return
        keep_text = await tenants.settings(session, {tenant for tenant, _ in unique})
        dims_of = {key: dimensions(c.event, c.query_type) for key, c in unique.items()}
        rows = [
            _event_row(c, dims_of[key], keep_text[c.event.tenant_id].keep_message_text)
            for key, c in unique.items()
        ]
        inserted = await event_rows.insert_new(session, rows)
        result.duplicate_completions += len(unique) - len(inserted)
        new = [key for key in unique if key in inserted]  # in arrival order
        result.new_completions = [unique[key] for key in new]
        batch.add_events(
            [c.event for c in result.new_completions],
            [dims_of[key] for key in new],
            [c.query_type == self._human_type for c in result.new_completions],
        )
        if new:
            newest = max(c.event.created_at_ms for c in result.new_completions)
            result.newest_created_at_ms = max(result.newest_created_at_ms, newest)
        # Feedback that arrived before its completion counts now.
        for record in await feedback_rows.for_completions(session, new):
            key = (record.tenant_id, record.completion_id)
            created = unique[key].event.created_at_ms
            batch.add_feedback(record.tenant_id, created, dims_of[key], contribution(record))

    async def _write_feedback(
        self,
        session: AsyncSession,
        records: Sequence[FeedbackRecord],
        batch: RollupBatch,
        result: IngestResult,
    ) -> None:
        if not records:
            return
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
        events = await event_rows.dimensions_of(session, judged)
        changed: list[FeedbackRecord] = []
        for key, latest in current.items():
            if before.get(key) is latest:
                continue
            changed.append(latest)
            event = events.get(key[:2])
            result.new_feedback.append((latest, event[1] if event else None))
            if event is not None:
                old = before.get(key)
                delta = contribution(latest).minus(contribution(old) if old else NONE)
                batch.add_feedback(latest.tenant_id, event[0], event[1], delta)
        await feedback_rows.upsert_latest(session, changed)


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
