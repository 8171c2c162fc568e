"""The background publisher over a private nats-server that goes down and comes back: events wait in the
outbox, drain in order, and every event is in the stream exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import pytest

from tuneway.core.testing.processes import NatsServer
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


async def _stream_ids(url: str) -> list[str]:
    """The Nats-Msg-Id of every message in EVENTS, in stream order, read with a real consumer."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        total = (await js.stream_info("EVENTS")).state.messages
        sub = await js.pull_subscribe("events.>", durable=None, stream="EVENTS")
        ids: list[str] = []
        while len(ids) < total:
            for msg in await sub.fetch(min(256, total - len(ids)), timeout=5):
                ids.append((msg.headers or {})["Nats-Msg-Id"])
                await msg.ack()
        return ids
    finally:
        await nc.close()


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
