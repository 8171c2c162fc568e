"""Assistants and model aliases in the audit log, over the whole gateway with a real prompt-svc replica and
a real inference service (the demo model on vLLM), which checks the models they name."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tuneway.core.testing.processes import free_port, start_nats_server, stop_process
from tuneway.gateway.clients.inference import InferenceClient
from tuneway.prompt_svc.main import PromptServer
from tuneway.prompt_svc.settings import PromptSettings

pytestmark = pytest.mark.integration

Gateway = Any
SYSTEM = [{"role": "system", "content": "You help customers of Acme."}]


def _start_inference(
    model: Path, root: Path, port: int, nats_port: int, log: Path
) -> subprocess.Popen[bytes]:
    """The service in a session of its own, so that its engine processes can be killed with it."""
    env = {
        **os.environ,
        "TUNEWAY_NATS_URL": f"nats://127.0.0.1:{nats_port}",
        "TUNEWAY_DATA_DIR": str(root),
        "INFERENCE_MODEL": str(model),
        "INFERENCE_GRPC_PORT": str(port),
        "INFERENCE_METRICS_PORT": "0",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tuneway.inference"],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


@pytest.fixture(scope="module")
async def inference(demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """`python -m tuneway.inference` on a NATS of its own (no other test's adapters reach it), started once
    for the module since the engine takes a while; its gRPC target once it serves."""
    root = tmp_path_factory.mktemp("inference")
    port, nats_port = free_port(), free_port()
    nats = start_nats_server(nats_port, root / "nats", root / "nats.log")
    log = root / "inference.log"
    process = _start_inference(demo_model, root, port, nats_port, log)
    target = f"127.0.0.1:{port}"
    client = InferenceClient(target, rpc_timeout=5)
    try:
        deadline = time.monotonic() + 240
        while not await client.ready():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "inference did not become ready"
            await asyncio.sleep(0.3)
        yield target
    finally:
        await client.close()
        # The whole group: no engine process outlives the module.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        stop_process(nats)


@pytest.fixture
async def gateway(
    start_gateway: Callable[..., Any], inference: str, nats_url: str, tmp_path: Path
) -> AsyncIterator[Gateway]:
    """A gateway with a prompt-svc replica on SQLite and the module's inference service."""
    port = free_port()
    server = PromptServer(
        PromptSettings(data_dir=tmp_path / "prompt-svc", nats_url=nats_url, grpc_port=port, host="127.0.0.1")
    )
    await server.start()
    try:
        async with start_gateway(prompt_target=f"127.0.0.1:{port}", inference_target=inference) as running:
            # The gateway's own channel to it connects in the background.
            deadline = time.monotonic() + 10
            while not await running.services.inference.ready():
                assert time.monotonic() < deadline, "the gateway never reached inference"
                await asyncio.sleep(0.05)
            yield running
    finally:
        await server.stop()


async def _key(gateway: Gateway, name: str) -> tuple[str, str]:
    """A new member key of acme, made through /admin: its id and raw key."""
    response = await gateway.app_client.post(
        "/admin/keys",
        json={"tenant_id": "acme", "name": name},
        headers=gateway.auth(gateway.settings.bootstrap_key),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["key"]


async def _entries(gateway: Gateway, key: str, **query: Any) -> list[dict[str, Any]]:
    response = await gateway.app_client.get(
        "/v1/audit", params={"limit": 100, **query}, headers=gateway.auth(key)
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_assistant_changes_are_recorded(gateway: Gateway) -> None:
    key_id, key = await _key(gateway, "builder")
    client, acme, globex = gateway.app_client, gateway.auth(key), gateway.auth(gateway.globex_key)
    for name in ("support", "sales"):
        response = await client.post("/v1/prompts", json={"name": name, "messages": SYSTEM}, headers=acme)
        assert response.status_code == 201, response.text
    body = {"name": "helpdesk", "base_model": "tuneway-tiny", "prompt": "support", "description": "Help"}
    created = await client.post("/v1/assistants", json=body, headers={**acme, "x-request-id": "bot-1"})
    assert created.status_code == 201, created.text
    path = "/v1/assistants/helpdesk"
    updated = await client.post(path, json={"prompt": "sales", "description": "Sales"}, headers=acme)
    assert updated.status_code == 200, updated.text
    # Failed changes record nothing: a model the tenant cannot call, an unknown assistant, a name taken,
    # and another tenant's attempts on acme's assistant.
    for method, url, json, headers, status in [
        ("POST", path, {"base_model": "gpt-nope"}, acme, 400),
        ("POST", "/v1/assistants/missing", {"description": "x"}, acme, 404),
        ("POST", "/v1/assistants", body, acme, 409),
        ("POST", path, {"description": "Globex's now"}, globex, 404),
        ("DELETE", path, None, globex, 404),
    ]:
        response = await client.request(method, url, json=json, headers=headers)
        assert response.status_code == status, (method, url, response.text)
    current = (await client.get(path, headers=acme)).json()
    deleted = await client.delete(path, headers=acme)
    assert deleted.status_code == 200, deleted.text

    entries = await _entries(gateway, key, resource_type="assistant")
    assert [e["action"] for e in entries] == ["assistant.deleted", "assistant.updated", "assistant.created"]
    for entry, response in zip(entries, (deleted, updated, created), strict=True):
        assert (entry["resource_id"], entry["tenant_id"]) == ("helpdesk", "acme")
        assert entry["actor"] == {"key_id": key_id, "key_name": "builder"}
        assert entry["request_id"] == response.headers["x-request-id"]
    deleted_entry, updated_entry, created_entry = entries
    assert created_entry["request_id"] == "bot-1"
    assert (created_entry["before"], created_entry["after"]) == (None, created.json())
    assert (updated_entry["before"], updated_entry["after"]) == (created.json(), updated.json())
    assert (updated_entry["before"]["prompt"], updated_entry["after"]["prompt"]) == ("support", "sales")
    assert (updated_entry["before"]["description"], updated_entry["after"]["description"]) == (
        "Help",
        "Sales",
    )
    assert (deleted_entry["before"], deleted_entry["after"]) == (current, None)
    assert current == updated.json()

    # Nothing else was written for acme, and globex sees none of it.
    everything = await _entries(gateway, key)
    assert [e["action"] for e in everything] == [
        *(e["action"] for e in entries),
        "prompt.created",
        "prompt.created",
        "api_key.created",
    ]
    assert await _entries(gateway, gateway.globex_key) == []


async def test_model_alias_changes_are_recorded(gateway: Gateway) -> None:
    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    await client.post("/v1/prompts", json={"name": "support", "messages": SYSTEM}, headers=acme)
    body = {"name": "helpdesk", "base_model": "tuneway-tiny", "prompt": "support"}
    assert (await client.post("/v1/assistants", json=body, headers=acme)).status_code == 201
    path = "/v1/model_aliases/gpt-4o-mini"
    created = await client.put(path, json={"target": "tuneway-tiny"}, headers=acme)
    assert created.status_code == 200, created.text
    moved = await client.put(path, json={"target": "assistant:helpdesk"}, headers=acme)
    assert moved.status_code == 200, moved.text
    # A target acme cannot call, and globex's attempts: nothing recorded.
    for method, json, headers, status in [
        ("PUT", {"target": "assistant:nope"}, acme, 400),
        ("DELETE", None, gateway.auth(gateway.globex_key), 404),
    ]:
        response = await client.request(method, path, json=json, headers=headers)
        assert response.status_code == status, response.text
    deleted = await client.delete(path, headers=acme)
    assert deleted.status_code == 200, deleted.text

    entries = await _entries(gateway, gateway.acme_key, resource_type="model_alias")
    assert [e["action"] for e in entries] == ["model_alias.deleted", "model_alias.set", "model_alias.set"]
    assert {e["resource_id"] for e in entries} == {"gpt-4o-mini"}
    deleted_entry, moved_entry, created_entry = entries
    assert (created_entry["before"], created_entry["after"]) == (None, created.json())
    assert (moved_entry["before"], moved_entry["after"]) == (created.json(), moved.json())
    assert (moved_entry["before"]["target"], moved_entry["after"]["target"]) == (
        "tuneway-tiny",
        "assistant:helpdesk",
    )
    assert (deleted_entry["before"], deleted_entry["after"]) == (moved.json(), None)
    assert deleted_entry["request_id"] == deleted.headers["x-request-id"]
    assert await _entries(gateway, gateway.globex_key) == []
