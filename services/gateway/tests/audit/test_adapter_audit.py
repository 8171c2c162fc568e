"""Adapter aliases and retirements in the audit log, over the whole gateway with a real trainer API replica
(SQLite, a NATS of its own, the demo model). No worker trains: each job's version is recorded and published
by the trainer's own registry, as the worker does once training is done, with a random LoRA as artifact."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tuneway.core.artifacts import directory_sha256
from tuneway.core.db import create_engine, session_factory
from tuneway.core.testing.lora import write_random_lora

pytest.importorskip("tuneway.trainer.api.main")
pytestmark = pytest.mark.integration
Entries = Callable[..., Awaitable[list[dict[str, Any]]]]

Gateway = Any
ALIASES = "/v1/fine_tuning/aliases"
ANSWER = {"role": "assistant", "content": "Yes."}
LINES = "".join(
    json.dumps({"messages": [{"role": "user", "content": f"Question {i}?"}, ANSWER]}) + "\n"
    for i in range(12)
).encode()


@pytest.fixture
async def gateway(start_gateway: Callable[..., Any], trainer: Any) -> AsyncIterator[Gateway]:
    async with start_gateway(trainer_target=f"127.0.0.1:{trainer.settings.grpc_port}") as running:
        yield running


async def _versions(gateway: Gateway, trainer: Any, adapter: Path, count: int) -> list[str]:
    """`count` versions of acme's family `support`: a job each, created through the gateway (queued, no
    worker takes it), whose adapter the registry records and publishes; their model names."""
    from tuneway.trainer.models import JobRow

    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    uploaded = await client.post(
        "/v1/files", files={"file": ("train.jsonl", LINES)}, data={"purpose": "fine-tune"}, headers=acme
    )
    assert uploaded.status_code == 200, uploaded.text
    body = {"model": "tuneway-tiny", "training_file": uploaded.json()["id"], "suffix": "support"}
    engine = create_engine(trainer.settings.db_url())
    models = []
    try:
        for _ in range(count):
            job = await client.post("/v1/fine_tuning/jobs", json=body, headers=acme)
            assert job.status_code == 200, job.text
            async with session_factory(engine)() as session:
                row = await session.get(JobRow, job.json()["id"])
            assert row is not None
            registry = trainer.service.registry
            version = await registry.record(row, f"file://{adapter}", directory_sha256(adapter), {}, {})
            await registry.publish(version)
            models.append(version.model)
    finally:
        await engine.dispose()
    return models


async def _key(gateway: Gateway, name: str) -> tuple[str, str]:
    """A new member key of acme, made through /admin: its id and raw key."""
    response = await gateway.app_client.post(
        "/admin/keys",
        json={"tenant_id": "acme", "name": name},
        headers=gateway.auth(gateway.settings.bootstrap_key),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["key"]


async def test_alias_changes_and_retirement_are_recorded(
    gateway: Gateway, trainer: Any, audit_entries: Entries, demo_model: Path, tmp_path: Path
) -> None:
    adapter = write_random_lora(demo_model, tmp_path / "adapter", seed=5)
    v1, v2 = await _versions(gateway, trainer, adapter, 2)
    key_id, key = await _key(gateway, "release")
    client, acme, globex = gateway.app_client, gateway.auth(key), gateway.auth(gateway.globex_key)
    path = f"{ALIASES}/prod"

    created = await client.put(path, json={"target": v1}, headers={**acme, "x-request-id": "release-1"})
    assert created.status_code == 200, created.text
    moved = await client.put(path, json={"target": v2}, headers=acme)
    assert moved.status_code == 200, moved.text
    rolled_back = await client.post(f"{path}/rollback", headers=acme)
    assert rolled_back.status_code == 200, rolled_back.text
    # Failed changes record nothing: an unknown target, a version an alias points at, no earlier target,
    # and another tenant's attempts on acme's alias and version.
    retire_v1, retire_v2 = (f"/v1/fine_tuning/adapters/{v}/retire" for v in (v1, v2))
    for method, url, body, headers, status in [
        ("PUT", path, {"target": "ft:tuneway-tiny:acme:support:ftjob-nope"}, acme, 404),
        ("POST", retire_v1, None, acme, 409),
        ("POST", f"{ALIASES}/staging/rollback", None, acme, 404),
        ("DELETE", path, None, globex, 404),
        ("POST", retire_v2, None, globex, 404),
    ]:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == status, (method, url, response.text)
    current = (await client.get(path, headers=acme)).json()
    deleted = await client.delete(path, headers=acme)
    assert deleted.status_code == 200, deleted.text
    version_before = (await client.get(f"/v1/fine_tuning/adapters/{v1}", headers=acme)).json()
    retired = await client.post(retire_v1, headers=acme)
    assert retired.status_code == 200, retired.text

    entries = await audit_entries(gateway, key, resource_type="adapter_alias")
    assert [e["action"] for e in entries] == [
        "adapter_alias.deleted",
        "adapter_alias.rolled_back",
        "adapter_alias.set",
        "adapter_alias.set",
    ]
    deleted_entry, rollback_entry, move_entry, create_entry = entries
    for entry, response in zip(entries, (deleted, rolled_back, moved, created), strict=True):
        assert (entry["resource_id"], entry["tenant_id"]) == ("prod", "acme")
        assert entry["actor"] == {"key_id": key_id, "key_name": "release"}
        assert entry["request_id"] == response.headers["x-request-id"]
    assert create_entry["request_id"] == "release-1"
    assert (create_entry["before"], create_entry["after"]) == (None, created.json())
    assert (create_entry["after"]["target"], create_entry["after"]["history"]) == (v1, [])
    assert (move_entry["before"], move_entry["after"]) == (created.json(), moved.json())
    assert (move_entry["after"]["target"], move_entry["after"]["history"]) == (v2, [v1])
    assert (rollback_entry["before"], rollback_entry["after"]) == (moved.json(), rolled_back.json())
    assert rollback_entry["after"]["target"] == v1
    assert (deleted_entry["before"], deleted_entry["after"]) == (current, None)
    assert current == rolled_back.json()

    [retired_entry] = await audit_entries(gateway, key, resource_type="adapter")
    assert (retired_entry["action"], retired_entry["resource_id"]) == ("adapter.retired", v1)
    assert retired_entry["actor"] == {"key_id": key_id, "key_name": "release"}
    assert retired_entry["request_id"] == retired.headers["x-request-id"]
    assert (retired_entry["before"], retired_entry["after"]) == (version_before, retired.json())
    assert (retired_entry["before"]["status"], retired_entry["after"]["status"]) == ("active", "retired")

    # Nothing else was written for acme (the key's creation aside), and globex sees none of it.
    everything = await audit_entries(gateway, key)
    assert [e["action"] for e in everything] == [
        "adapter.retired",
        *(e["action"] for e in entries),
        "api_key.created",
    ]
    assert await audit_entries(gateway, gateway.globex_key) == []
