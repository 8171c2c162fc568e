"""Process lifecycle: stop on SIGTERM/SIGINT, and retry dependencies at start instead of dying."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from tuneway.core.metrics import serve_metrics

log = logging.getLogger(__name__)
T = TypeVar("T")


def install_stop_signals() -> asyncio.Event:
    """An event set by the first SIGTERM or SIGINT; the service drains and exits when it is set."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def retry_forever(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    initial_delay: float = 0.2,
    max_delay: float = 5.0,
    stop: asyncio.Event | None = None,
) -> T:
    """Calls `attempt` until it succeeds, backing off and logging, so start order does not matter."""
    delay = initial_delay
    while True:
        try:
            return await attempt()
        except Exception as error:
            log.warning("waiting for %s: %s", what, error)
            if stop is not None and stop.is_set():
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


def freeze_startup_heap() -> None:
    """Moves everything allocated during start-up out of the garbage collector's sight.

    Engines, tokenizers and frameworks leave millions of long-lived objects; without this every
    full collection walks them all and stalls requests for hundreds of milliseconds.
    """
    gc.collect()
    gc.freeze()


class Server(Protocol):
    """What a service's composition root runs: start (migrate, connect, listen), then stop (drain)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def run_until_stopped(make_server: Callable[[], Server], *, metrics_port: int) -> None:
    """Serves metrics (port 0: none), builds and starts the server, runs until SIGTERM/SIGINT, then
    stops it.

    The server is built inside the running event loop (gRPC's aio server binds to it). A signal
    during start-up (a dependency that never answers, adapters still loading) cancels the start
    instead of waiting for it; `stop()` then drains whatever had started.
    """
    stop = install_stop_signals()
    serve_metrics(metrics_port)
    server = make_server()
    starting = asyncio.create_task(server.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if starting.done():
        starting.result()  # a failed start ends the process with its error
        freeze_startup_heap()
        await stopping
    else:
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
    log.info("draining")
    await server.stop()
