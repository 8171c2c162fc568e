"""Embeddings answer while chats stream: no retriever thread waits on the engine's busy cores.

On CPU, inference keeps vLLM's busy-waiting engine core on the model worker's cores; those cores are
never idle while chats generate. OpenVINO pinned one thread of the retriever's pool to one of them,
and every /v1/embeddings call then waited past the gateway's 10 s deadline (services/retriever's
cpu_threads.py).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import psutil

from tests.conftest import RunningStack, Tenant

CHATS = 16
EMBEDDINGS = 8
# The gateway's deadline is 10 s and an idle call takes milliseconds: half of it detects a stall.
WELL_WITHIN_SECONDS = 5.0


def _pid(data_dir: Path, service: str) -> int:
    return int((data_dir / "run" / f"{service}.pid").read_text())


def _thread_cpus(pid: int) -> dict[int, set[int]]:
    """{thread id: the CPUs it may run on} of every thread of `pid`."""
    cpus = {}
    for thread in psutil.Process(pid).threads():
        try:
            cpus[thread.id] = set(os.sched_getaffinity(thread.id))
        except OSError:  # the thread ended
            continue
    return cpus


def _engine_cores(inference_pid: int) -> set[int]:
    """The cores of vLLM's engine-core process (inference pins it beside its workers)."""
    cores: set[int] = set()
    for child in psutil.Process(inference_pid).children(recursive=True):
        if "EngineCore" in child.name():
            cores |= set(child.cpu_affinity())
    return cores


def _chat_until(url: str, key: str, stop: threading.Event, outcome: dict[str, int]) -> None:
    body = {
        "model": "tuneway-tiny",
        "messages": [{"role": "user", "content": "Tell me a long story about a lighthouse."}],
        "max_tokens": 200,
        "stream": True,
    }
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as http:
        while not stop.is_set():
            try:
                with http.stream("POST", "/v1/chat/completions", json=body) as response:
                    lines = [line for line in response.iter_lines() if line]
                ok = response.status_code == 200 and lines[-1] == "data: [DONE]"
            except httpx.HTTPError:
                ok = False
            outcome["done" if ok else "failed"] += 1


def test_embeddings_answer_while_chats_stream(stack: RunningStack, acme: Tenant) -> None:
    inputs = {"model": "all-MiniLM-L6-v2", "input": ["vacation days", "hotel limit"]}
    headers = {"Authorization": f"Bearer {acme.key}"}
    stop, outcome = threading.Event(), {"done": 0, "failed": 0}
    chats = [
        threading.Thread(target=_chat_until, args=(stack.gateway_url, acme.key, stop, outcome), daemon=True)
        for _ in range(CHATS)
    ]
    latencies, statuses = [], []
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=60) as http:
        assert http.post("/v1/embeddings", json=inputs).status_code == 200  # the embedder is warm
        for chat in chats:
            chat.start()
        try:
            while outcome["done"] < CHATS:  # every chat stream has run at least once
                assert outcome["failed"] == 0, outcome
                time.sleep(0.2)
            chats_before = outcome["done"]
            for _ in range(EMBEDDINGS):
                started = time.monotonic()
                statuses.append(http.post("/v1/embeddings", json=inputs).status_code)
                latencies.append(time.monotonic() - started)
                time.sleep(0.5)
            chats_during = outcome["done"] - chats_before
        finally:
            stop.set()
            for chat in chats:
                chat.join(120)
    assert statuses == [200] * EMBEDDINGS, (statuses, latencies)
    assert max(latencies) < WELL_WITHIN_SECONDS, latencies
    # The chats really were streaming all along, and none failed.
    assert chats_during >= CHATS and outcome["failed"] == 0, outcome

    # The invariant behind it: every retriever thread may run on every core the stack was given (the
    # launcher's, inherited), so none is confined to the engine's cores or any other subset of them.
    given = set(os.sched_getaffinity(0))
    retriever = _thread_cpus(_pid(stack.data_dir, "retriever"))
    confined = {tid: cpus for tid, cpus in retriever.items() if cpus != given}
    assert not confined, f"retriever threads confined to some of {sorted(given)}: {confined}"
    engine = _engine_cores(_pid(stack.data_dir, "inference"))
    if engine and engine != given:  # inference pinned its engine (CPU, cores to spare)
        assert all(not cpus <= engine for cpus in retriever.values())
