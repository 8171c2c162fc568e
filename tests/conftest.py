"""Fixtures of the cross-service tests: the stack started by `python -m tuneway.devstack run`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openai
import pytest

from tuneway.core.testing.processes import free_port
from tuneway.devstack.launcher import StackConfig

ADMIN_KEY = "sk-tw-e2e-admin-0123456789abcdef0123456789abcdef"
REPO_ROOT = Path(__file__).resolve().parents[1]


# Run after every other e2e module, in this order: the dashboards' fine-tuning panels read what
# test_finetune_e2e left behind; the log scan reads every log the session's requests wrote.
LAST_MODULES = ("test_dashboards_e2e.py", "test_secrets_in_logs_e2e.py")
# Every API key the stack issued to the tests (the admin key included): none may appear in a log.
ISSUED_KEYS: set[str] = {ADMIN_KEY}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Moves the dashboards' e2e test, then the log scan, to the end of the session."""
    items.sort(
        key=lambda item: LAST_MODULES.index(item.path.name) + 1 if item.path.name in LAST_MODULES else 0
    )


def _note_issued_key(response: httpx.Response) -> None:
    """Keeps the raw key of a created API key (the only response that shows one)."""
    if response.request.url.path == "/admin/keys" and response.status_code == 201:
        response.read()
        ISSUED_KEYS.add(response.json()["key"])


@dataclass
class RunningStack:
    """What the tests need to reach the stack that `make run` started."""

    gateway_url: str
    admin_key: str
    nats_url: str
    inference_metrics_url: str
    data_dir: Path
    # The environment the launcher was started with (ports, limits).
    env: dict[str, str] = field(default_factory=dict)
    # Each process's Prometheus endpoint, by job name (gateway, inference, ..., analytics).
    metrics_urls: dict[str, str] = field(default_factory=dict)

    def client(self, key: str) -> openai.OpenAI:
        """An OpenAI SDK client for `key` (no retries, so error statuses reach the test)."""
        return openai.OpenAI(base_url=f"{self.gateway_url}/v1", api_key=key, max_retries=0, timeout=60)

    def admin(self) -> httpx.Client:
        """An HTTP client with the admin key."""
        return httpx.Client(
            base_url=self.gateway_url,
            headers={"Authorization": f"Bearer {self.admin_key}"},
            timeout=30,
            event_hooks={"response": [_note_issued_key]},
        )


@pytest.fixture(scope="session")
def stack(
    nats_url: str, demo_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    """The whole stack, started as `make run` starts it, stopped with SIGINT (Ctrl-C) at the end."""
    data_dir = tmp_path_factory.mktemp("stack")
    gateway_port, inference_port, metrics_port = free_port(), free_port(), free_port()
    prompt_port, prompt_metrics_port = free_port(), free_port()
    retriever_port, retriever_metrics_port = free_port(), free_port()
    trainer_port, trainer_metrics_port, worker_metrics_port = free_port(), free_port(), free_port()
    analytics_port, analytics_metrics_port = free_port(), free_port()
    gateway_metrics_port, batch_worker_metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "TUNEWAY_DATA_DIR": str(data_dir),
        "TUNEWAY_NATS_URL": nats_url,
        "TUNEWAY_BOOTSTRAP_KEY": ADMIN_KEY,
        "GATEWAY_PORT": str(gateway_port),
        "GATEWAY_METRICS_PORT": str(gateway_metrics_port),
        "INFERENCE_GRPC_PORT": str(inference_port),
        "INFERENCE_METRICS_PORT": str(metrics_port),
        "PROMPT_SVC_GRPC_PORT": str(prompt_port),
        "PROMPT_SVC_METRICS_PORT": str(prompt_metrics_port),
        "RETRIEVER_GRPC_PORT": str(retriever_port),
        "RETRIEVER_METRICS_PORT": str(retriever_metrics_port),
        "TRAINER_GRPC_PORT": str(trainer_port),
        "TRAINER_METRICS_PORT": str(trainer_metrics_port),
        "TRAINER_WORKER_METRICS_PORT": str(worker_metrics_port),
        "ANALYTICS_GRPC_PORT": str(analytics_port),
        "ANALYTICS_METRICS_PORT": str(analytics_metrics_port),
        "GATEWAY_BATCH_WORKER_METRICS_PORT": str(batch_worker_metrics_port),
        # A killed batch worker's batch goes to the next worker within seconds.
        "GATEWAY_BATCH_ACK_WAIT_SECONDS": "6",
        # Likewise a killed analytics replica's unacknowledged batch (120 s by default): the consumer is
        # idempotent, so an early redelivery cannot count an event twice.
        "ANALYTICS_ACK_WAIT_SECONDS": "10",
        "TUNEWAY_PROMETHEUS_PORT": str(free_port()),
        # Small enough that the e2e tests can upload one byte past it.
        "GATEWAY_MAX_FILE_BYTES": str(2 * 1024 * 1024),
        "INFERENCE_MODEL": str(demo_model),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tuneway.devstack", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + 300
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        output.append(line)
        if "admin key" in line:
            break
    else:
        process.kill()
    if not any("admin key" in line for line in output):
        process.kill()
        pytest.fail("make run's launcher did not report ready:\n" + "".join(output))
    banner = "".join(output)
    assert f"http://127.0.0.1:{gateway_port}" in banner
    assert ADMIN_KEY in banner
    yield RunningStack(
        gateway_url=f"http://127.0.0.1:{gateway_port}",
        admin_key=ADMIN_KEY,
        nats_url=nats_url,
        inference_metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
        data_dir=data_dir,
        env=env,
        metrics_urls=StackConfig(
            gateway_port=gateway_port,
            gateway_metrics_port=gateway_metrics_port,
            inference_metrics_port=metrics_port,
            prompt_metrics_port=prompt_metrics_port,
            retriever_metrics_port=retriever_metrics_port,
            trainer_metrics_port=trainer_metrics_port,
            trainer_worker_metrics_port=worker_metrics_port,
            analytics_metrics_port=analytics_metrics_port,
            batch_worker_metrics_port=batch_worker_metrics_port,
        ).metrics_urls(),
    )
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the launcher did not stop within 60 s of Ctrl-C")
    assert code == 0, process.stdout.read()


@dataclass
class Tenant:
    id: str
    key: str


def make_tenant(stack: RunningStack, name: str) -> Tenant:
    """A new tenant named `name` and a member key of it."""
    with stack.admin() as admin:
        response = admin.post("/admin/tenants", json={"name": name})
        assert response.status_code == 201, response.text
        tenant_id = response.json()["id"]
        response = admin.post("/admin/keys", json={"tenant_id": tenant_id, "role": "member", "name": "e2e"})
        assert response.status_code == 201, response.text
        return Tenant(tenant_id, response.json()["key"])


@pytest.fixture(scope="session")
def acme(stack: RunningStack) -> Tenant:
    """A member key of tenant `acme`."""
    return make_tenant(stack, "acme")


@pytest.fixture(scope="session")
def globex(stack: RunningStack) -> Tenant:
    """A member key of another tenant, `globex`."""
    return make_tenant(stack, "globex")
