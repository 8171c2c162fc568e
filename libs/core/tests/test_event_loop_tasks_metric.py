"""The metrics endpoint counts the tasks alive on the service's event loop (issue 14: task leaks)."""

from __future__ import annotations

import asyncio
import re

import httpx

from tuneway.core.metrics import serve_metrics, stop_metrics
from tuneway.core.testing.processes import free_port


def _tasks_reported(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.search(r"^tuneway_asyncio_tasks (\S+)$", text, re.MULTILINE)
    assert found, "no tuneway_asyncio_tasks on the endpoint"
    return float(found.group(1))


async def test_tasks_alive_on_the_loop_are_counted_and_finished_ones_are_not() -> None:
    port = free_port()
    server = serve_metrics(port, "127.0.0.1")
    try:
        before = await asyncio.to_thread(_tasks_reported, port)
        release = asyncio.Event()
        waiting = [asyncio.create_task(release.wait()) for _ in range(25)]
        await asyncio.sleep(0)
        during = await asyncio.to_thread(_tasks_reported, port)
        release.set()
        await asyncio.gather(*waiting)
        after = await asyncio.to_thread(_tasks_reported, port)
    finally:
        await asyncio.to_thread(stop_metrics, server)
    assert during == before + 25
    assert after == before
