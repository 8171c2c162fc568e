"""Keeps every thread of the retriever free to run on any core the kernel allows it.

On CPU the inference service keeps vLLM's busy-waiting engine core on the model worker's cores
(inference's cpu_affinity.py); those cores are never idle while chats generate. A retriever thread
confined to one of them got no CPU for minutes, and every embedding waited for it: OpenVINO's CPU
plugin pins each thread of its pool to one core by default (ENABLE_CPU_PINNING), and one forward
pass waits for every thread of the pool. Unconfined, the kernel moves a thread to whichever core
has time. The other ways a thread ends up confined: an affinity inherited from whatever started
the process (taskset, a pinned parent), and OpenMP's binding variables (OMP_PROC_BIND, OMP_PLACES,
GOMP_CPU_AFFINITY, KMP_AFFINITY) that torch and ONNX Runtime's OpenMP builds obey and that an
operator may have exported for vLLM.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

# OpenMP runtimes (GNU, LLVM/Intel) bind their threads to cores when these are set.
BINDING_VARIABLES = ("OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY", "KMP_AFFINITY")


def allowed_cpus() -> set[int]:
    """Every CPU the kernel lets this process use (its cgroup's cpuset, all online CPUs without one)."""
    return set(os.sched_getaffinity(0)) | _cpuset()


def _cpuset() -> set[int]:
    """The CPUs of this process's cgroup (v2), or every online CPU when that cannot be read."""
    for path in ("/sys/fs/cgroup/cpuset.cpus.effective", "/sys/devices/system/cpu/online"):
        try:
            with open(path) as handle:
                text = handle.read().strip()
        except OSError:
            continue
        try:
            return _parse_cpu_list(text)
        except ValueError:  # empty or unexpected: let the kernel's own mask stand
            continue
    return set(range(os.cpu_count() or 1))


def _parse_cpu_list(text: str) -> set[int]:
    """'0-3,8,10-11' -> {0, 1, 2, 3, 8, 10, 11}."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def release_threads() -> set[int]:
    """Lets this process and every thread it has run on any allowed CPU, and keeps OpenMP runtimes
    loaded later from binding theirs; call it first thing, so later threads inherit the whole set.

    Returns the CPUs now allowed."""
    for name in BINDING_VARIABLES:
        if os.environ.pop(name, None) is not None:
            log.info("ignoring an OpenMP thread binding", extra={"variable": name})
    cpus = allowed_cpus()
    for tid in _thread_ids():
        _widen(tid, cpus)
    return set(os.sched_getaffinity(0))


def confined_threads() -> dict[int, set[int]]:
    """{thread id: its CPUs} of this process's threads that may not use every CPU the process may."""
    cpus = set(os.sched_getaffinity(0))
    confined = {}
    for tid in _thread_ids():
        try:
            own = set(os.sched_getaffinity(tid))
        except OSError:  # the thread ended
            continue
        if own != cpus:
            confined[tid] = own
    return confined


def release_confined_threads() -> dict[int, set[int]]:
    """Widens any thread a library confined after start-up (logged: a library to configure); returns
    what each such thread had."""
    confined = confined_threads()
    cpus = set(os.sched_getaffinity(0))
    for tid, own in confined.items():
        log.warning("a thread was confined to some cores; released", extra={"tid": tid, "cpus": sorted(own)})
        _widen(tid, cpus)
    return confined


def _thread_ids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/task")]
    except OSError:  # not Linux: only this thread can be reached
        return [0]


def _widen(tid: int, cpus: set[int]) -> None:
    try:
        os.sched_setaffinity(tid, cpus)
    except OSError as error:  # a thread that ended, or a cpuset narrower than it says
        log.debug("could not widen a thread", extra={"tid": tid, "error": str(error)})
