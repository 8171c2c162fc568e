"""Keeps vLLM's engine processes running through a stop signal sent to the whole process group, so the
service can drain: only the service itself stops its engine.

The launcher stops a service with SIGTERM to its process group (as a container runtime or systemd may
signal every process of a container or unit). vLLM's engine-core process and its model workers are in
that group, and each of them acts on SIGTERM at once: the workers exit, the engine core aborts every
request, and the service's in-flight streams end in errors while it is still draining. So the engine
processes are born with SIGTERM and SIGINT blocked (the service blocks them while it starts the engine,
and a signal mask is inherited through fork and exec; blocking them later in the child would leave the
threads it already runs open to them), and a thread of the engine core takes those signals with
sigwaitinfo and passes on to vLLM's handler only the ones the service sent (vLLM's own shutdown
terminates the engine core from the parent process); every other sender is logged and ignored. The
workers leave when the engine core closes their death pipe, as vLLM stops them anyway.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing import resource_tracker
from typing import Any, TypeVar

# Under "vllm" so that the line appears in the engine core's log the way vLLM configured it there.
log = logging.getLogger("vllm.tuneway.engine_signals")

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
T = TypeVar("T")

# vLLM's engine-core entry point, kept by `shield_engine_from_group_signals` (inherited by a forked
# engine core; a spawned one imports vLLM afresh, where the entry point is still the original).
_vllm_entry_point: Callable[..., Any] | None = None


def start_shielded_engine(start: Callable[[], T]) -> T:
    """Runs `start` (which builds the engine) so that the engine processes it starts obey stop signals
    from this process only."""
    global _vllm_entry_point
    from vllm.v1.engine.core import EngineCoreProc

    if _vllm_entry_point is None:
        _vllm_entry_point = EngineCoreProc.run_engine_core
        # vLLM's process manager looks the target up on the class when it starts the engine core.
        EngineCoreProc.run_engine_core = staticmethod(run_shielded_engine_core)  # type: ignore[method-assign]
    # Starting multiprocessing's resource tracker unblocks SIGINT and SIGTERM in the thread that starts
    # it (CPython's resource_tracker.ensure_running): start it now, or vLLM's first use of it would undo
    # the mask before the engine core is started and the threads it starts first would take the signal.
    resource_tracker.ensure_running()
    # Children take the mask of the thread that starts them; a signal sent to this process meanwhile
    # waits and is delivered when the mask is restored.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def run_shielded_engine_core(*args: Any, **kwargs: Any) -> None:
    """The engine core's process target: vLLM's own, with the stop signals filtered by sender."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # already blocked since birth; made sure
    threading.Thread(
        target=_obey_parent_only, args=(os.getppid(),), name="stop-signal-filter", daemon=True
    ).start()
    entry_point = _vllm_entry_point
    if entry_point is None:
        from vllm.v1.engine.core import EngineCoreProc

        entry_point = EngineCoreProc.run_engine_core
    entry_point(*args, **kwargs)


def _obey_parent_only(parent: int) -> None:
    """Runs in the engine core: hands the parent's stop signals to the handler vLLM installed."""
    while True:
        info = signal.sigwaitinfo(STOP_SIGNALS)
        name = signal.Signals(info.si_signo).name
        if info.si_pid != parent:
            log.info(
                "engine core ignores %s from pid %d: the inference service drains, then stops it",
                name,
                info.si_pid,
            )
            continue
        handler = signal.getsignal(info.si_signo)
        if not callable(handler):  # vLLM has not installed its handler yet: the default, end now
            os._exit(128 + info.si_signo)
        # vLLM's handler only records the request and wakes its busy loop: safe from this thread.
        handler(info.si_signo, None)
