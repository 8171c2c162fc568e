"""Packing analytics events into EventBatch messages: order, size limit, one copy per id, stable ids."""

from __future__ import annotations

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.gateway.analytics.batches import pack
from tuneway.gateway.analytics.outbox import OutgoingEvent


def _event(n: int, size: int = 100, subject: str = "events.completions") -> OutgoingEvent:
    return OutgoingEvent(subject, f"chatcmpl-{n:04d}", bytes([n % 256]) * size)


def test_events_keep_their_order_subject_id_and_bytes() -> None:
    events = [_event(0), _event(1, subject="events.feedback"), _event(2, size=0)]
    [batch] = pack(events, 1 << 20)
    decoded = epb.EventBatch.FromString(batch.data).events
    assert [(e.subject, e.msg_id, e.data) for e in decoded] == [(e.subject, e.msg_id, e.data) for e in events]
    assert batch.events == events


def test_batches_stay_under_the_payload_limit_and_a_big_event_travels_alone() -> None:
    events = [_event(n, size=3_000) for n in range(20)] + [_event(20, size=50_000), _event(21)]
    batches = pack(events, 16_384)
    assert all(len(b.data) <= 16_384 for b in batches if b is not batches[-2])
    assert [e for b in batches for e in b.events] == events
    assert len(batches) >= 5 and [e.msg_id for e in batches[-2].events] == ["chatcmpl-0020"]


def test_an_event_submitted_twice_is_packed_once() -> None:
    [batch] = pack([_event(1), _event(2), _event(1)], 1 << 20)
    assert [e.msg_id for e in epb.EventBatch.FromString(batch.data).events] == [
        "chatcmpl-0001",
        "chatcmpl-0002",
    ]


def test_the_batch_id_is_the_same_for_the_same_events_only() -> None:
    events = [_event(n) for n in range(3)]
    assert pack(events, 1 << 20)[0].msg_id == pack(list(events), 1 << 20)[0].msg_id
    assert pack(events, 1 << 20)[0].msg_id != pack(events[:2], 1 << 20)[0].msg_id
    assert pack(events, 1 << 20)[0].msg_id != pack(events[::-1], 1 << 20)[0].msg_id
