"""The background publisher over a private nats-server that goes down and comes back: events wait in the
outbox, drain in order, and every event is in the stream exactly once, many to a message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import pytest

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.core.nats import EVENTS_STREAM, ensure_stream
from tuneway.core.testing.processes import NatsServer
from tuneway.gateway.analytics.batches import BATCH_SUBJECT, pack
from tuneway.gateway.analytics.outbox import Outbox, OutgoingEvent
from tuneway.gateway.analytics.publisher import EventPublisher

pytestmark = pytest.mark.integration


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own, so stopping it disturbs no other test."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


def _event(n: int, subject: str = "events.completions") -> OutgoingEvent:
    return OutgoingEvent(subject, f"chatcmpl-{n:04d}", f"event {n}".encode())


async def _stream_messages(url: str) -> list[tuple[str, list[str]]]:
    """Every message in EVENTS, in stream order, read with a real consumer: its Nats-Msg-Id and the
    ids of the events it carries (an EventBatch on events.batch, else the message itself)."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        total = (await js.stream_info("EVENTS")).state.messages
        sub = await js.pull_subscribe("events.>", durable=None, stream="EVENTS")
        messages: list[tuple[str, list[str]]] = []
        while len(messages) < total:
            for msg in await sub.fetch(min(256, total - len(messages)), timeout=5):
                msg_id = (msg.headers or {})["Nats-Msg-Id"]
                if msg.subject == BATCH_SUBJECT:
                    ids = [e.msg_id for e in epb.EventBatch.FromString(msg.data).events]
                else:
                    ids = [msg_id]
                messages.append((msg_id, ids))
                await msg.ack()
        return messages
    finally:
        await nc.close()


async def _stream_ids(url: str) -> list[str]:
    """The id of every event in EVENTS, in stream order."""
    return [event_id for _, ids in await _stream_messages(url) for event_id in ids]


async def _until(condition: Callable[[], bool]) -> None:
    """Polls `condition` (the publisher works in the background) for up to 30 seconds."""
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached within 30 s")


async def test_an_outage_keeps_events_on_disk_and_delivers_each_once(
    private_nats: NatsServer, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.db", max_events=1000)
    publisher = EventPublisher(private_nats.url, outbox, publish_timeout=0.5, retry_seconds=0.1)
    await publisher.start()
    await _until(lambda: publisher.connected)
    for n in range(10):
        publisher.submit(_event(n))
    await _until(lambda: publisher.idle)

    private_nats.stop()
    for n in range(10, 40):
        publisher.submit(_event(n))
    await _until(lambda: outbox.count == 30)
    # Still down: nothing leaves the outbox.
    await asyncio.sleep(0.3)
    assert [s.event.msg_id for s in await outbox.oldest(3)] == [
        "chatcmpl-0010",
        "chatcmpl-0011",
        "chatcmpl-0012",
    ]

    private_nats.start()
    for n in range(40, 50):
        publisher.submit(_event(n))
    await _until(lambda: outbox.count == 0 and publisher.idle)
    await publisher.stop()

    ids = await _stream_ids(private_nats.url)
    assert sorted(ids) == [f"chatcmpl-{n:04d}" for n in range(50)]
    # The outbox drained in order, and what came during the outage waited behind it.
    outage = [i for i in ids if "0010" <= i[-4:] <= "0049"]
    assert outage == sorted(outage)


async def test_the_same_msg_id_twice_is_stored_once(private_nats: NatsServer, tmp_path: Path) -> None:
    publisher = EventPublisher(private_nats.url, Outbox(tmp_path / "outbox.db", 100), retry_seconds=0.1)
    await publisher.start()
    publisher.submit(_event(1))
    publisher.submit(_event(1))
    publisher.submit(_event(2, "events.feedback"))
    await _until(lambda: publisher.connected and publisher.idle and publisher.outbox.count == 0)
    await publisher.stop()
    assert sorted(await _stream_ids(private_nats.url)) == ["chatcmpl-0001", "chatcmpl-0002"]


async def test_without_nats_events_wait_and_a_restart_delivers_them(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats")  # not started yet: NATS is down when the gateway starts
    path = tmp_path / "outbox.db"
    publisher = EventPublisher(server.url, Outbox(path, 100), retry_seconds=0.1)
    await publisher.start()
    for n in range(5):
        publisher.submit(_event(n))
    # A graceful shutdown right away: the queued events go to the outbox rather than being lost.
    await publisher.stop()
    assert Outbox(path, 100).count == 5

    server.start()
    try:
        restarted = EventPublisher(server.url, Outbox(path, 100), retry_seconds=0.1)
        await restarted.start()
        await _until(lambda: restarted.outbox.count == 0)
        await restarted.stop()
        assert await _stream_ids(server.url) == [f"chatcmpl-{n:04d}" for n in range(5)]
    finally:
        server.stop()


async def test_submit_never_waits_and_a_full_queue_drops(tmp_path: Path) -> None:
    publisher = EventPublisher("nats://127.0.0.1:1", Outbox(tmp_path / "outbox.db", 100), queue_size=2)
    # Not started: submit must still return at once, keeping two and dropping the third.
    for n in range(3):
        publisher.submit(_event(n))
    assert publisher._queue.qsize() == 2
    await publisher.stop()
    assert Outbox(tmp_path / "outbox.db", 100).count == 2


async def test_events_ready_together_travel_in_one_message(private_nats: NatsServer, tmp_path: Path) -> None:
    publisher = EventPublisher(private_nats.url, Outbox(tmp_path / "outbox.db", 1000), retry_seconds=0.1)
    await publisher.start()
    await _until(lambda: publisher.connected)
    # Queued without a pause: the publisher finds all of them waiting when it next runs.
    for n in range(100):
        publisher.submit(_event(n, "events.feedback" if n % 10 == 0 else "events.completions"))
    await _until(lambda: publisher.idle and publisher.outbox.count == 0)
    await publisher.stop()
    [(msg_id, ids)] = await _stream_messages(private_nats.url)
    assert ids == [f"chatcmpl-{n:04d}" for n in range(100)] and msg_id.startswith("batch-")


async def test_a_batch_published_again_as_it_was_is_stored_once(private_nats: NatsServer) -> None:
    events = [_event(n) for n in range(5)]
    nc = await nats.connect(private_nats.url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, EVENTS_STREAM)
        for _ in range(2):  # a retry after a lost ack packs the same events into the same message id
            [batch] = pack(events, nc.max_payload)
            await js.publish(BATCH_SUBJECT, batch.data, headers={"Nats-Msg-Id": batch.msg_id})
        # The same events grouped otherwise are another message (the consumer skips what it has).
        [other] = pack(events[1:], nc.max_payload)
        await js.publish(BATCH_SUBJECT, other.data, headers={"Nats-Msg-Id": other.msg_id})
    finally:
        await nc.close()
    assert [ids for _, ids in await _stream_messages(private_nats.url)] == [
        [e.msg_id for e in events],
        [e.msg_id for e in events[1:]],
    ]


async def test_full_batches_do_not_linger_and_a_lingering_event_is_kept_on_stop(
    private_nats: NatsServer, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.db", 1000)
    publisher = EventPublisher(private_nats.url, outbox, batch_size=10, linger_seconds=3600)
    await publisher.start()
    await _until(lambda: publisher.connected)
    for n in range(20):
        publisher.submit(_event(n))
    # Two full batches leave at once, an hour's linger notwithstanding.
    await _until(lambda: publisher.idle)
    publisher.submit(_event(20))
    await _until(lambda: not publisher.idle)
    await publisher.stop()  # while event 20 lingers: it goes to the outbox, not lost
    assert [ids for _, ids in await _stream_messages(private_nats.url)] == [
        [f"chatcmpl-{n:04d}" for n in range(10)],
        [f"chatcmpl-{n:04d}" for n in range(10, 20)],
    ]
    assert [s.event.msg_id for s in Outbox(tmp_path / "outbox.db", 1000).oldest_now(10)] == ["chatcmpl-0020"]
