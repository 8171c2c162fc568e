"""Keeps vLLM's engine-core process on its CPU workers' cores, off the cores that serve requests."""

from __future__ import annotations

import logging
import os

import psutil

log = logging.getLogger(__name__)


def pin_engine_core_to_workers() -> dict[int, set[int]]:
    """Moves every thread of each engine-core child onto the cores its workers are bound to.

    On CPU, vLLM binds its model worker to some cores and leaves the rest to everything else, but the
    engine-core process between us and the worker busy-waits for each step's result (a sched_yield
    loop) on any core. Sharing a core with that spinner, the gRPC threads of this process, the
    gateway and the client were measured starving for seconds: a stream's tokens arrived all at once
    at the end and a cancelled call could no longer stop its generation. Next to the worker the
    spinner costs the worker a little (measured ~10% fewer tokens/s) and frees the serving cores.

    Returns {engine-core pid: cores} for the processes it moved; does nothing where the workers are
    not bound to a narrower set of cores (GPUs, or CPU binding turned off)."""
    moved: dict[int, set[int]] = {}
    for child in psutil.Process().children():
        try:
            workers = child.children(recursive=True)
            allowed = set(child.cpu_affinity() or ())
            worker_cores = set().union(*(set(w.cpu_affinity() or ()) for w in workers))
            if not worker_cores or not worker_cores < allowed:
                continue
            for thread in child.threads():
                os.sched_setaffinity(thread.id, worker_cores)
        except (psutil.Error, OSError) as error:  # a process that went away, or no permission
            log.warning("could not pin the engine core", extra={"pid": child.pid, "error": str(error)})
            continue
        moved[child.pid] = worker_cores
        log.info(
            "engine core pinned to its workers' cores",
            extra={"pid": child.pid, "cores": sorted(worker_cores)},
        )
    return moved
