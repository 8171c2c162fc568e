"""The on-disk outbox: order, the bound, and surviving a restart (a new instance on the same file)."""

from __future__ import annotations

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
