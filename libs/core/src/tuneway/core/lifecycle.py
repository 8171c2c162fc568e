"""Process lifecycle: stop on SIGTERM/SIGINT, and retry dependencies at start instead of dying."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
