"""NATS restarted under the whole stack (issue 14 §1): the stack, started as `make run` starts it, runs on
a nats-server of its own, which is stopped and started again on the same port and JetStream store while
chats stream and a fine-tuning job trains. No chat may fail (their analytics events wait in the gateway's
outbox and are all counted afterwards), the job must go on to success, and the adapter registry (the
ADAPTERS bucket) must hold what it held, plus the new adapter, each served."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tuneway.api.events.v1.events_pb2 import AdapterRegistration
from tuneway.core import nats as tnats
from tuneway.core.testing.processes import NatsServer
from tuneway.devstack.launcher import Stack, StackConfig

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
ADMIN_KEY = "sk-tw-natsrestart-admin-0123456789abcdef0123456789abcd"
BASE = "tuneway-tiny"
TERMINAL = ("succeeded", "failed", "cancelled")
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


def _dataset() -> bytes:
    """Ten distinct short conversations: OpenAI's minimum for a training file."""
    lines = []
    for n in range(10):
        messages = [
            {"role": "user", "content": f"When does order {n} ship?"},
            {"role": "assistant", "content": f"Order {n} ships from warehouse {n % 4} on Monday."},
        ]
        lines.append(json.dumps({"messages": messages}))
    return ("\n".join(lines) + "\n").encode()


def _job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/fine_tuning/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _wait_job(stack: Stack, http: httpx.Client, job_id: str, until: Callable[[dict[str, Any]], bool]) -> Any:
    deadline = time.monotonic() + 600
    while not until(job := _job(http, job_id)):
        stack.check_alive()
        assert time.monotonic() < deadline, f"{job_id}: still {job['status']} after 600 s"
        time.sleep(0.5)
    return job


def _create_job(http: httpx.Client, file_id: str, suffix: str, epochs: int, batch_size: int) -> str:
    body = {
        "model": BASE,
        "training_file": file_id,
        "suffix": suffix,
        "seed": 7,
        "hyperparameters": {"n_epochs": epochs, "batch_size": batch_size},
    }
    created = http.post("/v1/fine_tuning/jobs", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def _requests_counted(http: httpx.Client) -> int:
    response = http.get("/v1/analytics/summary")
    assert response.status_code == 200, response.text
    return int(response.json()["total"]["requests"])


def _stream_chat(http: httpx.Client, model: str = BASE) -> str | None:
    """One streamed chat; what went wrong with it, or None when it ended with a finish reason and [DONE]."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Where is my parcel?"}],
        "max_tokens": 12,
        "stream": True,
    }
    finish, done = None, False
    try:
        with http.stream("POST", "/v1/chat/completions", json=body) as response:
            if response.status_code != 200:
                return f"{response.status_code}: {response.read().decode()}"
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    done = True
                    continue
                event = orjson.loads(line.removeprefix("data: "))
                if "error" in event:
                    return f"error event: {event['error']}"
                for choice in event["choices"]:
                    finish = choice.get("finish_reason") or finish
    except httpx.HTTPError as error:
        return repr(error)
    return None if done and finish else f"truncated stream (finish {finish}, [DONE] {done})"


def _chat_until(http: httpx.Client, stop: threading.Event, chats: Chats) -> None:
    while not stop.is_set():
        problem = _stream_chat(http)
        with chats.lock:
            if problem is None:
                chats.completed += 1
            else:
                chats.failures.append(problem)


async def _adapters(nats_url: str, tenant_id: str) -> dict[str, str]:
    """The tenant's entries of the ADAPTERS bucket: key -> the adapter's sha256."""
    connection = await tnats.connect(nats_url, "test")
    try:
        kv = await tnats.ensure_kv(connection.jetstream(), tnats.ADAPTERS_BUCKET)
        found = {}
        for key in await kv.keys():
            if key.startswith(f"{tenant_id}."):
                entry = await kv.get(key)
                found[key] = AdapterRegistration.FromString(entry.value or b"").sha256
        return found
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def restartable(demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    """The whole stack on a NATS of its own (not the session's: this module stops it)."""
    root = tmp_path_factory.mktemp("nats-restart")
    nats = NatsServer(root / "nats")
    nats.start()
    config = StackConfig.on_free_ports(
        root / "stack",
        nats_url=nats.url,
        model=str(demo_model),
        bootstrap_key=ADMIN_KEY,
        prometheus_port=0,
        env={"TRAINER_CHECKPOINT_STEPS": "50"},
    )
    stack = Stack(config)
    try:
        stack.start(timeout=300)
        admin = httpx.Client(base_url=stack.gateway_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        tenant_id = admin.post("/admin/tenants", json={"name": "nats-restart"}).json()["id"]
        member = {"tenant_id": tenant_id, "role": "member", "name": "nats-restart"}
        key = admin.post("/admin/keys", json=member).json()["key"]
        admin.close()
        headers = {"Authorization": f"Bearer {key}"}
        http = httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=120)
        deadline = time.monotonic() + 300
        while (problem := _stream_chat(http)) is not None:
            stack.check_alive()
            assert time.monotonic() < deadline, f"the stack did not serve a chat within 300 s: {problem}"
            time.sleep(0.5)
        uploaded = http.post(
            "/v1/files", files={"file": ("orders.jsonl", _dataset())}, data={"purpose": "fine-tune"}
        )
        assert uploaded.status_code == 200, uploaded.text
        yield Restartable(stack, nats, http, tenant_id, uploaded.json()["id"])
        http.close()
    finally:
        stack.stop()
        nats.stop()


def test_nats_restart_under_chats_and_training_loses_nothing(restartable: Restartable) -> None:
    stack, http, nats = restartable.stack, restartable.http, restartable.nats
    # An adapter registered before the outage.
    before_job = _create_job(http, restartable.file_id, "before", epochs=3, batch_size=4)
    before = _wait_job(stack, http, before_job, lambda job: job["status"] in TERMINAL)
    assert before["status"] == "succeeded", before.get("error")
    registered_before = asyncio.run(_adapters(nats.url, restartable.tenant_id))
    assert list(registered_before) == [f"{restartable.tenant_id}.{before_job}"]
    counted_before = _requests_counted(http)

    # A job long enough to train through the outage, running before NATS goes.
    during_job = _create_job(http, restartable.file_id, "during", epochs=50, batch_size=1)
    _wait_job(stack, http, during_job, lambda job: job["status"] == "running")
    chats, stop = Chats(), threading.Event()
    threads = [threading.Thread(target=_chat_until, args=(http, stop, chats)) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        nats.stop()
        stopped = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        assert _job(http, during_job)["status"] == "running", "the job did not train through the outage"
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

    during = _wait_job(stack, http, during_job, lambda job: job["status"] in TERMINAL)
    assert during["status"] == "succeeded", during.get("error")
    # It trained on through the outage: one attempt, never handed back or redelivered.
    events = http.get(f"/v1/fine_tuning/jobs/{during_job}/events", params={"limit": 100}).json()["data"]
    starts = [e["message"] for e in events if e["message"].startswith("Fine-tuning job started")]
    assert starts == ["Fine-tuning job started (attempt 1)."], starts
    stack.check_alive()

    # Every chat's analytics event arrived, once (the warm-up chats of the fixture were counted before).
    deadline = time.monotonic() + 120
    while _requests_counted(http) < counted_before + chats.completed:
        assert time.monotonic() < deadline, (
            f"{_requests_counted(http) - counted_before} of {chats.completed} chats counted after 120 s"
        )
        time.sleep(1)
    time.sleep(3)
    assert _requests_counted(http) == counted_before + chats.completed

    # The registry kept what it held and holds the new adapter, each as the trainer recorded it; both are
    # served.
    registered = asyncio.run(_adapters(nats.url, restartable.tenant_id))
    adapters = http.get("/v1/fine_tuning/adapters").json()["data"]
    assert registered == {f"{restartable.tenant_id}.{a['fine_tuning_job_id']}": a["sha256"] for a in adapters}
    assert set(registered) == {f"{restartable.tenant_id}.{job}" for job in (before_job, during_job)}
    assert registered_before.items() <= registered.items()
    for job in (before, during):
        deadline = time.monotonic() + 60
        while (problem := _stream_chat(http, job["fine_tuned_model"])) is not None:
            assert time.monotonic() < deadline, f"{job['fine_tuned_model']} is not served: {problem}"
            time.sleep(1)
