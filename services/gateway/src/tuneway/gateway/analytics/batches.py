"""Packs analytics events into EventBatch messages for `events.batch`: one NATS message (one publish,
one ack, one stored message) for the events the publisher has ready, instead of one each.

A batch's Nats-Msg-Id is a hash of its events' ids in order, so publishing the same events again as one
batch (a retry after a lost ack) is dropped by the stream's duplicate window; a retry that groups them
differently gets another id, and the analytics consumer skips the events it already has.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.gateway.analytics.outbox import OutgoingEvent

BATCH_SUBJECT = "events.batch"
# Room left in a message for the headers and the batch's own framing.
_HEADROOM = 1024
# A BatchedEvent's framing beyond its three fields' bytes: tags and length prefixes (at most 5 bytes
# each for lengths under 4 GiB), with a margin.
_PER_EVENT = 24


@dataclass(frozen=True)
class Batch:
    """One message for `events.batch`: its Nats-Msg-Id, body, and the events it carries."""

    msg_id: str
    data: bytes
    events: list[OutgoingEvent]


def batch_id(events: list[OutgoingEvent]) -> str:
    """The same id for the same events in the same order."""
    digest = hashlib.blake2b(digest_size=16)
    for event in events:
        digest.update(event.msg_id.encode())
        digest.update(b"\n")
    return f"batch-{digest.hexdigest()}"


def _size(event: OutgoingEvent) -> int:
    return len(event.subject) + len(event.msg_id.encode()) + len(event.data) + _PER_EVENT


def pack(events: list[OutgoingEvent], max_bytes: int) -> list[Batch]:
    """`events` in order, each once (an event submitted twice has one id), in as few batches as fit
    `max_bytes` (NATS's max payload) each; an event too big to share a message travels alone."""
    limit = max(max_bytes - _HEADROOM, 1)
    groups: list[list[OutgoingEvent]] = []
    size = 0
    for event in {(e.subject, e.msg_id): e for e in events}.values():
        event_size = _size(event)
        if not groups or size + event_size > limit:
            groups.append([])
            size = 0
        groups[-1].append(event)
        size += event_size
    return [_batch(group) for group in groups]


def _batch(events: list[OutgoingEvent]) -> Batch:
    message = epb.EventBatch(
        events=[epb.BatchedEvent(subject=e.subject, msg_id=e.msg_id, data=e.data) for e in events]
    )
    return Batch(batch_id(events), message.SerializeToString(), events)
