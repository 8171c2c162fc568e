"""No retriever thread is confined to some cores, whatever the process inherited and whichever backend.

A confined thread can land on a core that inference's busy-waiting engine never leaves idle, and every
embedding then waits for it (cpu_threads.py). Each case runs in a fresh process: affinity is state of
the whole process, and the first backend to start decides its thread pool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Started confined to one CPU and with an OpenMP binding exported, as a pinned parent (taskset, or a
# shell set up for vLLM) would leave it; then the retriever's own start-up and embeddings from the
# worker threads the servicer uses.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, logging, os, sys
    from pathlib import Path
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ["OMP_PROC_BIND"] = "true"
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from tuneway.retriever.cpu_threads import confined_threads, release_threads
    release_threads()
    from tuneway.retriever.embedder import load_embedder
    embedder = load_embedder(sys.argv[1], 32, Path(sys.argv[2]))

    async def embed_concurrently():
        await asyncio.gather(*(embedder.embed_in_thread(["vacation days"] * 40) for _ in range(4)))

    asyncio.run(embed_concurrently())
    print(json.dumps({
        "process": sorted(os.sched_getaffinity(0)),
        "confined": {tid: sorted(cpus) for tid, cpus in confined_threads().items()},
        "omp_proc_bind": os.environ.get("OMP_PROC_BIND"),
    }))
    """
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export for every case."""
    return tmp_path_factory.mktemp("embedders")


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to confine a thread to one")
@pytest.mark.parametrize("backend", ["openvino", "onnx", "torch"])
def test_every_thread_may_run_on_every_core(backend: str, cache_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, backend, str(cache_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.strip().splitlines()[-1])
    # The inherited confinement is gone, and no library confined a thread of its own: not even for
    # the moment before the embedder releases it after its warm-up.
    assert state["process"] == sorted(os.sched_getaffinity(0))
    assert state["confined"] == {}
    assert state["omp_proc_bind"] is None
    assert "confined to some cores" not in result.stderr, result.stderr
