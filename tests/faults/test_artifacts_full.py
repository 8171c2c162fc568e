"""The artifact store full (issue 14 §1): inference, the trainer API and worker, and the gateway, started by
the launcher as `make run` starts them, keep their artifacts on a small filesystem of their own (a tmpfs
mounted by this test), which is filled before a fine-tuning job runs. The job must fail with a reason
that says the store is full (ENOSPC), and nothing of it may be half there: no adapter version, no key in
the ADAPTERS bucket, no listed model, no adapter directory. Once space is freed, training works again."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.stack_helpers import (
    create_job,
    member_client,
    private_stack,
    registered_adapters,
    serves_a_chat,
    upload_training_file,
    wait_job,
    wait_until_served,
)
from tuneway.devstack.launcher import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
ADMIN_KEY = "sk-tw-fullstore-admin-0123456789abcdef0123456789abcdef"
STORE_BYTES = 64 * 1024 * 1024
# What a job's first checkpoint finds left (a rank-64 adapter of the demo model is about 1.5 MB, its
# optimizer state 3 MB): no room for the adapter (safetensors' writer fails first), or room for the
# adapter but not for the optimizer state (torch's writer fails, without an errno).
LEFT_FREE = {"adapter": 256 * 1024, "optimizer": 2 * 1024 * 1024}


@dataclass
class FullStore:
    stack: Stack
    http: httpx.Client
    tenant_id: str
    file_id: str
    store: Path
    nats_url: str


def _mount_small_filesystem(where: Path) -> None:
    """A tmpfs of STORE_BYTES at `where`; skips the module where this machine does not let us mount."""
    where.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={STORE_BYTES}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"a small filesystem could not be mounted (needs root): {mounted.stderr.strip()}")


def _fill(store: Path, leave: int) -> Path:
    """Fills the filesystem of `store` but for about `leave` bytes; the filler file."""
    filler = store / "filler"
    # Unbuffered: a buffered file would try its last chunk again on close, and fail there.
    with filler.open("wb", buffering=0) as handle:
        chunk = b"\0" * (64 * 1024)
        try:
            while True:
                handle.write(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    with filler.open("r+b") as handle:
        handle.truncate(max(0, filler.stat().st_size - leave))
    return filler


def _train(full: FullStore, suffix: str) -> dict[str, Any]:
    """Creates a small job (40 steps) and waits for its end."""
    job_id = create_job(full.http, full.file_id, suffix, epochs=4, batch_size=1)
    return wait_job(full.stack, full.http, job_id, timeout=300)


def _fine_tuned_models(http: httpx.Client) -> list[str]:
    response = http.get("/v1/models")
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["data"] if m["id"].startswith("ft:")]


@pytest.fixture(scope="module")
def full_store(
    nats_url: str, demo_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullStore]:
    root = tmp_path_factory.mktemp("full-store")
    store = root / "artifacts"
    _mount_small_filesystem(store)
    stack = private_stack(
        root / "stack",
        ADMIN_KEY,
        nats_url=nats_url,
        model=str(demo_model),
        env={
            "GATEWAY_ANALYTICS_ENABLED": "false",
            # One artifact store, at the same path for every service (artifact URIs are absolute).
            "GATEWAY_ARTIFACTS_DIR": str(store),
            "TRAINER_ARTIFACTS_DIR": str(store),
            "INFERENCE_ARTIFACTS_DIR": str(store),
            "TRAINER_REGISTRATION_WAIT_SECONDS": "30",
        },
    )
    try:
        stack.start_service("inference", "tuneway.inference")
        stack.start_service("trainer", "tuneway.trainer", "api")
        stack.start_service("trainer-worker", "tuneway.trainer", "worker")
        stack.start_service("gateway", "tuneway.gateway")
        wait_until_served(stack, ADMIN_KEY, serves_a_chat)
        tenant_id, http = member_client(stack, ADMIN_KEY, "full-store")
        file_id = upload_training_file(http)
        yield FullStore(stack, http, tenant_id, file_id, store, nats_url)
        http.close()
    finally:
        stack.stop()
        subprocess.run(["umount", "--lazy", str(store)], check=False)


@pytest.mark.parametrize("full_at", list(LEFT_FREE))
def test_a_full_store_fails_the_job_with_enospc_and_registers_nothing(
    full_store: FullStore, full_at: str
) -> None:
    http = full_store.http
    filler = _fill(full_store.store, LEFT_FREE[full_at])
    try:
        job = _train(full_store, "full")
    finally:
        filler.unlink()
    assert job["status"] == "failed", job
    error = job["error"]
    print(f"the job's error: {error}")
    assert error["code"] == "artifact_store_full", error
    assert "ENOSPC" in error["message"] and "No space left on device" in error["message"], error
    assert not job["fine_tuned_model"]
    # The job's events end with the same reason.
    events = http.get(f"/v1/fine_tuning/jobs/{job['id']}/events", params={"limit": 5}).json()["data"]
    assert "ENOSPC" in events[0]["message"]

    # Nothing half there: no version, no ADAPTERS key, no listed model, no adapter directory; the failed
    # job's checkpoints gave their space back.
    adapters = http.get("/v1/fine_tuning/adapters", params={"include_retired": "true"}).json()["data"]
    assert adapters == []
    assert registered_adapters(full_store.nats_url, full_store.tenant_id) == {}
    assert _fine_tuned_models(http) == []
    adapter_dir = full_store.store / "adapters" / full_store.tenant_id / job["id"]
    assert not adapter_dir.exists() and not adapter_dir.with_name(adapter_dir.name + ".partial").exists()
    assert not (full_store.store / "checkpoints" / full_store.tenant_id / job["id"]).exists()


def test_with_space_again_a_job_trains_and_is_listed(full_store: FullStore) -> None:
    job = _train(full_store, "freed")
    assert job["status"] == "succeeded", job["error"]
    assert _fine_tuned_models(full_store.http) == [job["fine_tuned_model"]]
