"""What the whole-stack fault modules share: a private stack started by the launcher as `make run` starts
it, a tenant's client on it, a training file and its fine-tuning jobs, the ADAPTERS bucket, and what a
streamed chat or a refused call must look like. One copy here, so a module says only what it tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from tuneway.core import nats as tnats
from tuneway.core.testing.processes import NatsServer
from tuneway.devstack.launcher import Stack, StackConfig

BASE = "tuneway-tiny"
TERMINAL = ("succeeded", "failed", "cancelled")


def private_stack(root: Path, admin_key: str, **values: Any) -> Stack:
    """A stack on free ports under `root`, with `admin_key` as its bootstrap key and no Prometheus;
    `values` are StackConfig's (nats_url, model, env, replicas). Nothing is started yet."""
    config = StackConfig.on_free_ports(root, bootstrap_key=admin_key, prometheus_port=0, **values)
    stack = Stack(config)
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    return stack


@contextmanager
def stack_on_own_nats(root: Path, admin_key: str, **values: Any) -> Iterator[tuple[Stack, NatsServer]]:
    """A private stack (`private_stack`, nothing started) on a NATS server of its own, under `root`: a
    module that restarts NATS, or needs its work queues to hold only its own jobs, cannot share the
    session's. Stops whatever the stack started, then the NATS server."""
    nats = NatsServer(root / "nats")
    nats.start()
    try:
        stack = private_stack(root / "stack", admin_key, nats_url=nats.url, **values)
        try:
            yield stack, nats
        finally:
            stack.stop()
    finally:
        nats.stop()


def wait_until_served(
    stack: Stack, admin_key: str, request: Callable[[httpx.Client], httpx.Response], timeout: float = 300
) -> httpx.Response:
    """Repeats `request` with the admin key until it succeeds (the gateway and what it needs are up);
    fails early, with the log, if a service exits."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=60) as admin:
        while True:
            stack.check_alive()
            try:
                response = request(admin)
                if response.is_success:
                    return response
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the stack did not answer within {timeout:.0f} s"
            time.sleep(0.5)


def serves_a_chat(admin: httpx.Client) -> httpx.Response:
    """A one-token chat with the base model: what `wait_until_served` repeats when inference is needed."""
    chat = {"model": BASE, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 1}
    return admin.post("/v1/chat/completions", json=chat)


def member_client(stack: Stack, admin_key: str, name: str, timeout: float = 60) -> tuple[str, httpx.Client]:
    """A new tenant named `name` (made once the gateway answers) and an HTTP client with a member key of
    it: (tenant id, client)."""
    tenant = wait_until_served(stack, admin_key, lambda a: a.post("/admin/tenants", json={"name": name}))
    tenant_id = str(tenant.json()["id"])
    headers = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=60) as admin:
        created = admin.post("/admin/keys", json={"tenant_id": tenant_id, "role": "member", "name": name})
        assert created.status_code == 201, created.text
    member = {"Authorization": f"Bearer {created.json()['key']}"}
    return tenant_id, httpx.Client(base_url=stack.gateway_url, headers=member, timeout=timeout)


def training_file() -> bytes:
    """Ten distinct short conversations: OpenAI's minimum for a training file."""
    lines = []
    for n in range(10):
        messages = [
            {"role": "user", "content": f"Where is parcel number {n}?"},
            {"role": "assistant", "content": f"Parcel {n} is at depot {n % 3} and arrives tomorrow."},
        ]
        lines.append(json.dumps({"messages": messages}))
    return ("\n".join(lines) + "\n").encode()


def upload_training_file(http: httpx.Client) -> str:
    """Uploads `training_file()` for fine-tuning; its file id."""
    uploaded = http.post(
        "/v1/files", files={"file": ("parcels.jsonl", training_file())}, data={"purpose": "fine-tune"}
    )
    assert uploaded.status_code == 200, uploaded.text
    return str(uploaded.json()["id"])


def create_job(
    http: httpx.Client, file_id: str, suffix: str, epochs: int, batch_size: int, seed: int = 7
) -> str:
    """Creates a fine-tuning job of the base model on `file_id`; its id."""
    body = {
        "model": BASE,
        "training_file": file_id,
        "suffix": suffix,
        "seed": seed,
        "hyperparameters": {"n_epochs": epochs, "batch_size": batch_size},
    }
    created = http.post("/v1/fine_tuning/jobs", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def read_job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/fine_tuning/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_job(
    stack: Stack,
    http: httpx.Client,
    job_id: str,
    until: Callable[[dict[str, Any]], bool] = lambda j: j["status"] in TERMINAL,
    timeout: float = 600,
) -> dict[str, Any]:
    """Polls a job until `until` holds of it (by default: it ended); fails if a service exits."""
    deadline = time.monotonic() + timeout
    while not until(found := read_job(http, job_id)):
        stack.check_alive()
        assert time.monotonic() < deadline, f"{job_id}: still {found['status']} after {timeout:.0f} s"
        time.sleep(0.5)
    return found


def job_events(http: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    """Every event of a job, oldest first (the list pages newest first)."""
    events: list[dict[str, Any]] = []
    after = ""
    while True:
        params: dict[str, Any] = {"limit": 100, **({"after": after} if after else {})}
        response = http.get(f"/v1/fine_tuning/jobs/{job_id}/events", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        events.extend(page["data"])
        if not page["has_more"] or not page["data"]:
            return events[::-1]
        after = page["data"][-1]["id"]


def registered_adapters(nats_url: str, tenant_id: str) -> dict[str, str]:
    """The tenant's entries of the ADAPTERS bucket (what inference replicas load): key -> sha256."""
    from tuneway.api.events.v1.events_pb2 import AdapterRegistration

    async def read() -> dict[str, str]:
        connection = await tnats.connect(nats_url, "test")
        try:
            kv = await tnats.ensure_kv(connection.jetstream(), tnats.ADAPTERS_BUCKET)
            try:
                keys = await kv.keys()
            except Exception as error:  # nats-py raises NoKeysError for an empty bucket
                if type(error).__name__ != "NoKeysError":
                    raise
                keys = []
            found = {}
            for key in keys:
                if key.startswith(f"{tenant_id}."):
                    entry = await kv.get(key)
                    found[key] = AdapterRegistration.FromString(entry.value or b"").sha256
            return found
        finally:
            await connection.close()

    return asyncio.run(read())


def stream_chat(http: httpx.Client, model: str = BASE, **body: Any) -> str | None:
    """One streamed chat; what went wrong with it, or None when it ended with a finish reason and [DONE]."""
    request = {
        "model": model,
        "messages": [{"role": "user", "content": "Where is my parcel?"}],
        "max_tokens": 12,
        **body,
        "stream": True,
    }
    finish, done = None, False
    try:
        with http.stream("POST", "/v1/chat/completions", json=request) as response:
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


def assert_unavailable(response: httpx.Response, what: str) -> None:
    """A clean refusal: 503 with Retry-After and the service_unavailable code."""
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text}"
    assert response.headers.get("Retry-After") == "1", f"{what}: no Retry-After"
    assert response.json()["error"]["code"] == "service_unavailable", f"{what}: {response.text}"


def wait_for_checkpoint(stack: Stack, http: httpx.Client, job_id: str, timeout: float = 300) -> None:
    """Waits for a job's first "Checkpoint saved" event; fails if the job ends first."""
    deadline = time.monotonic() + timeout
    while not any(e["message"].startswith("Checkpoint saved") for e in job_events(http, job_id)):
        stack.check_alive()
        assert read_job(http, job_id)["status"] not in TERMINAL, f"{job_id} ended before its first checkpoint"
        assert time.monotonic() < deadline, f"{job_id} saved no checkpoint within {timeout:.0f} s"
        time.sleep(0.2)


def pull_requests_waiting(nats_url: str, stream: str, durable: str) -> int:
    """Pull requests waiting on a work queue's durable consumer: one per idle worker."""

    async def read() -> int:
        connection = await tnats.connect(nats_url, "test")
        try:
            info = await connection.jetstream().consumer_info(stream, durable)
            return int(info.num_waiting or 0)
        except Exception:
            return 0  # the stream or the consumer is not there yet
        finally:
            await connection.close()

    return asyncio.run(read())


def wait_for_pullers(stack: Stack, nats_url: str, stream: str, durable: str, count: int) -> None:
    """Waits until `count` workers pull from a work queue (each has loaded what it needs by then)."""
    deadline = time.monotonic() + 300
    while pull_requests_waiting(nats_url, stream, durable) < count:
        stack.check_alive()
        assert time.monotonic() < deadline, f"{count} workers did not pull from {stream} within 300 s"
        time.sleep(0.5)


def requests_counted(http: httpx.Client) -> int:
    """The requests analytics has counted for the client's tenant."""
    response = http.get("/v1/analytics/summary")
    assert response.status_code == 200, response.text
    return int(response.json()["total"]["requests"])
