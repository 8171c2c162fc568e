"""Process lifecycle: stop on SIGTERM/SIGINT, and retry dependencies at start instead of dying."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import gc
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from tuneway.core.metrics import serve_metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
# After the drain, how long work still running on worker threads (asyncio.to_thread) may take to end
# before the process exits without it.
THREAD_GRACE_SECONDS = 2.0


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
    workers = _WorkerThreads()
    asyncio.get_running_loop().set_default_executor(workers)
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
    await workers.finish(THREAD_GRACE_SECONDS)


class _WorkerThreads(concurrent.futures.ThreadPoolExecutor):
    """The loop's default executor (asyncio.to_thread), with a bounded end.

    asyncio.run waits without limit for every call still running on it, and the interpreter then
    joins its threads: a retriever stopped under embedding load stayed alive for half a minute after
    its drain, embedding for callers long gone, and its replacement found the ports taken. A thread
    stuck in native code cannot be interrupted, so after the drain queued calls are dropped, running
    ones get a short grace, and a process still waiting on one then exits without it.
    """

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="worker")
        self._pending: set[concurrent.futures.Future[Any]] = set()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future = super().submit(fn, *args, **kwargs)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    async def finish(self, grace_seconds: float) -> None:
        """Drops queued calls, waits up to `grace_seconds` for running ones, else exits the process."""
        self.shutdown(wait=False, cancel_futures=True)
        running = [asyncio.wrap_future(f) for f in list(self._pending)]
        if not running:
            return
        done, left = await asyncio.wait(running, timeout=grace_seconds)
        for future in done:  # their callers are gone; what they raised is nobody's to log
            future.cancelled() or future.exception()
        if left:
            log.warning("exiting with work still running on %d worker threads", len(left))
            # What a normal exit runs (log handlers' flush, libraries' clean-up), without joining the
            # threads that would keep the process alive.
            atexit._run_exitfuncs()
            os._exit(0)
