"""The on-disk outbox: order, the bound, and surviving a restart (a new instance on the same file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tuneway.gateway.analytics.outbox import Outbox, OutgoingEvent


def _events(start: int, stop: int) -> list[OutgoingEvent]:
    return [
        OutgoingEvent("events.completions", f"chatcmpl-{n}", f"body {n}".encode()) for n in range(start, stop)
    ]


def _dropped() -> float:
    return REGISTRY.get_sample_value("tuneway_gateway_events_dropped_total", {"reason": "outbox_full"}) or 0.0


async def test_events_survive_a_restart_and_leave_in_order(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    first = Outbox(path, max_events=100)
    await first.append(_events(0, 3))
    await first.append(_events(3, 5))
    first.close()

    again = Outbox(path, max_events=100)
    assert again.count == 5
    assert REGISTRY.get_sample_value("tuneway_gateway_outbox_events") == 5
    oldest = await again.oldest(3)
    assert [s.event.msg_id for s in oldest] == ["chatcmpl-0", "chatcmpl-1", "chatcmpl-2"]
    assert oldest[1].event == OutgoingEvent("events.completions", "chatcmpl-1", b"body 1")
    await again.remove([s.seq for s in oldest])
    await again.append(_events(5, 6))
    assert [s.event.msg_id for s in await again.oldest(10)] == ["chatcmpl-3", "chatcmpl-4", "chatcmpl-5"]
    assert again.count == 3
    again.close()


async def test_a_full_outbox_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db", max_events=4)
    before = _dropped()
    assert await outbox.append(_events(0, 3)) == 0
    assert await outbox.append(_events(3, 6)) == 2
    assert _dropped() - before == 2
    assert [s.event.msg_id for s in await outbox.oldest(10)] == [f"chatcmpl-{n}" for n in range(2, 6)]
    assert outbox.count == 4
    outbox.close()


def test_a_bound_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_events"):
        Outbox(tmp_path / "outbox.db", max_events=0)


async def test_an_event_handed_over_twice_waits_once(tmp_path: Path) -> None:
    # A publisher stopped between writing a batch and forgetting it hands the batch over again.
    outbox = Outbox(tmp_path / "outbox.db", max_events=4)
    before = _dropped()
    await outbox.append(_events(0, 3))
    assert await outbox.append(_events(1, 4)) == 0
    assert outbox.count == 4
    assert _dropped() == before
    assert [s.event.msg_id for s in await outbox.oldest(10)] == [f"chatcmpl-{n}" for n in range(4)]
    outbox.close()


def test_copies_in_a_file_written_before_the_unique_ids_are_removed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL,"
            " msg_id TEXT NOT NULL, data BLOB NOT NULL)"
        )
        rows = [("events.completions", f"chatcmpl-{n}", b"x") for n in (0, 1, 0, 2, 1)]
        old.executemany("INSERT INTO outbox (subject, msg_id, data) VALUES (?, ?, ?)", rows)
    outbox = Outbox(path, max_events=10)
    assert outbox.count == 3
    assert [s.event.msg_id for s in outbox.oldest_now(10)] == ["chatcmpl-0", "chatcmpl-1", "chatcmpl-2"]
    outbox.close()
