"""A thread at a lower CPU priority for work nobody waits on right now: ingestion's embedding.

On a small machine an ingestion embeds for minutes on the same cores that serve chats (the gateway,
inference's front end, the retriever's own queries). At the same priority it takes its share of them
and every chat slows; at a higher nice value the kernel gives it what the requests leave, and it runs
at full speed when they leave everything. The nice value is a per-thread attribute on Linux, so only
this thread's work is lowered, and the forward it runs keeps to this thread (one-thread models).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
_Job = tuple[Callable[[], Any], "concurrent.futures.Future[Any]"]


class BackgroundLane:
    """One daemon thread, niced, running submitted calls in order. A daemon: a process that stops does
    not wait for the call in progress (its caller stopped it between batches, or is gone)."""

    def __init__(self, nice: int, name: str = "background") -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.native_id: int | None = None
        started = threading.Event()
        self._thread = threading.Thread(target=self._work, args=(nice, started), name=name, daemon=True)
        self._thread.start()
        started.wait()

    def _work(self, nice: int, started: threading.Event) -> None:
        self.native_id = threading.get_native_id()
        try:
            # PRIO_PROCESS with a thread id sets that thread's nice value (Linux); raising it needs no rights.
            os.setpriority(os.PRIO_PROCESS, self.native_id, nice)
        except OSError as error:
            log.warning("background work runs at normal priority", extra={"error": str(error)})
        started.set()
        while (job := self._jobs.get()) is not None:
            call, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as error:  # the caller gets whatever the call raised
                future.set_exception(error)

    def submit(self, call: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Runs `call` on the lane after the calls before it."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((call, future))
        return future

    def close(self) -> None:
        """Ends the thread after the calls already submitted."""
        self._jobs.put(None)
