"""NATS restarted under the whole stack (issue 14 §1): the stack, started as `make run` starts it, runs on
a nats-server of its own, which is stopped and started again on the same port and JetStream store while
chats stream and a fine-tuning job trains. No chat may fail (their analytics events wait in the gateway's
outbox and are all counted afterwards), the job must go on to success, and the adapter registry (the
ADAPTERS bucket) must hold what it held, plus the new adapter, each served."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.faults.stack_helpers import (
    create_job,
    member_client,
    read_job,
    registered_adapters,
    requests_counted,
    stack_on_own_nats,
    stream_chat,
    upload_training_file,
    wait_job,
)
from tuneway.core.testing.processes import NatsServer
from tuneway.devstack.launcher import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
ADMIN_KEY = "sk-tw-natsrestart-admin-0123456789abcdef0123456789abcd"
OUTAGE_SECONDS = 10


@dataclass
class Restartable:
    stack: Stack
    nats: NatsServer
    http: httpx.Client
    tenant_id: str
    file_id: str


@dataclass
class Chats:
    """What the streaming chat threads saw."""

    completed: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _chat_until(http: httpx.Client, stop: threading.Event, chats: Chats) -> None:
    while not stop.is_set():
        problem = stream_chat(http)
        with chats.lock:
            if problem is None:
                chats.completed += 1
            else:
                chats.failures.append(problem)


@pytest.fixture(scope="module")
def restartable(demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    """The whole stack on a NATS of its own (not the session's: this module stops it)."""
    root = tmp_path_factory.mktemp("nats-restart")
    env = {"TRAINER_CHECKPOINT_STEPS": "50"}
    with stack_on_own_nats(root, ADMIN_KEY, model=str(demo_model), env=env) as (stack, nats):
        stack.start(timeout=300)
        tenant_id, http = member_client(stack, ADMIN_KEY, "nats-restart", timeout=120)
        deadline = time.monotonic() + 300
        while (problem := stream_chat(http)) is not None:
            stack.check_alive()
            assert time.monotonic() < deadline, f"the stack did not serve a chat within 300 s: {problem}"
            time.sleep(0.5)
        file_id = upload_training_file(http)
        yield Restartable(stack, nats, http, tenant_id, file_id)
        http.close()


def test_nats_restart_under_chats_and_training_loses_nothing(restartable: Restartable) -> None:
    stack, http, nats = restartable.stack, restartable.http, restartable.nats
    # An adapter registered before the outage.
    before_job = create_job(http, restartable.file_id, "before", epochs=3, batch_size=4)
    before = wait_job(stack, http, before_job)
    assert before["status"] == "succeeded", before.get("error")
    registered_before = registered_adapters(nats.url, restartable.tenant_id)
    assert list(registered_before) == [f"{restartable.tenant_id}.{before_job}"]
    counted_before = requests_counted(http)

    # A job long enough to train through the outage, running before NATS goes.
    during_job = create_job(http, restartable.file_id, "during", epochs=50, batch_size=1)
    wait_job(stack, http, during_job, lambda job: job["status"] == "running")
    chats, stop = Chats(), threading.Event()
    threads = [threading.Thread(target=_chat_until, args=(http, stop, chats)) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        nats.stop()
        stopped = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        assert read_job(http, during_job)["status"] == "running", "the job did not train through the outage"
        nats.start()
        print(f"NATS down for {time.monotonic() - stopped:.1f} s")
        time.sleep(5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    print(f"{chats.completed} chats streamed across the restart")
    assert chats.failures == [], chats.failures[:5]
    assert chats.completed > 3

    during = wait_job(stack, http, during_job)
    assert during["status"] == "succeeded", during.get("error")
    # It trained on through the outage: one attempt, never handed back or redelivered.
    events = http.get(f"/v1/fine_tuning/jobs/{during_job}/events", params={"limit": 100}).json()["data"]
    starts = [e["message"] for e in events if e["message"].startswith("Fine-tuning job started")]
    assert starts == ["Fine-tuning job started (attempt 1)."], starts
    stack.check_alive()

    # Every chat's analytics event arrived, once (the warm-up chats of the fixture were counted before).
    deadline = time.monotonic() + 120
    while requests_counted(http) < counted_before + chats.completed:
        assert time.monotonic() < deadline, (
            f"{requests_counted(http) - counted_before} of {chats.completed} chats counted after 120 s"
        )
        time.sleep(1)
    time.sleep(3)
    assert requests_counted(http) == counted_before + chats.completed

    # The registry kept what it held and holds the new adapter, each as the trainer recorded it; both are
    # served.
    registered = registered_adapters(nats.url, restartable.tenant_id)
    adapters = http.get("/v1/fine_tuning/adapters").json()["data"]
    assert registered == {f"{restartable.tenant_id}.{a['fine_tuning_job_id']}": a["sha256"] for a in adapters}
    assert set(registered) == {f"{restartable.tenant_id}.{job}" for job in (before_job, during_job)}
    assert registered_before.items() <= registered.items()
    for job in (before, during):
        deadline = time.monotonic() + 60
        while (problem := stream_chat(http, job["fine_tuned_model"])) is not None:
            assert time.monotonic() < deadline, f"{job['fine_tuned_model']} is not served: {problem}"
            time.sleep(1)
