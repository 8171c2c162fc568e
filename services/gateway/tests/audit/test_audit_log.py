"""GET /v1/audit over the whole gateway with a real prompt-svc replica: changes to prompts, experiments and
keys are recorded with their actor, request id and the resource before and after; a failed change records
nothing; another tenant sees none of it; pages and filters."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tuneway.core.testing.processes import free_port
from tuneway.prompt_svc.main import PromptServer
from tuneway.prompt_svc.settings import PromptSettings

pytestmark = pytest.mark.integration

Gateway = Any
SYSTEM = [{"role": "system", "content": "You help customers of Acme."}]


@pytest.fixture
async def gateway(
    start_gateway: Callable[..., AbstractAsyncContextManager[Any]], nats_url: str, tmp_path: Path, db_url: str
) -> AsyncIterator[Gateway]:
    """A gateway on each kind of database (SQLite, PostgreSQL) whose prompt-svc is a real replica on
    SQLite; no inference behind it."""
    port = free_port()
    server = PromptServer(
        PromptSettings(data_dir=tmp_path / "prompt-svc", nats_url=nats_url, grpc_port=port, host="127.0.0.1")
    )
    await server.start()
    try:
        async with start_gateway(prompt_target=f"127.0.0.1:{port}", database_url=db_url) as running:
            yield running
    finally:
        await server.stop()


def _admin(gateway: Gateway) -> dict[str, str]:
    return gateway.auth(gateway.settings.bootstrap_key)


async def _key(gateway: Gateway, tenant_id: str, name: str) -> tuple[str, str]:
    """A new member key of the tenant, made through /admin: its id and raw key."""
    response = await gateway.app_client.post(
        "/admin/keys", json={"tenant_id": tenant_id, "name": name}, headers=_admin(gateway)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["key"]


async def _audit(gateway: Gateway, key: str, **query: Any) -> dict[str, Any]:
    response = await gateway.app_client.get("/v1/audit", params=query, headers=gateway.auth(key))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _entries(gateway: Gateway, key: str, **query: Any) -> list[dict[str, Any]]:
    """Every entry the key's tenant has (matching `query`), newest first."""
    data: list[dict[str, Any]] = (await _audit(gateway, key, limit=100, **query))["data"]
    return data


async def test_prompt_changes_are_recorded_with_actor_and_before_and_after(gateway: Gateway) -> None:
    client = gateway.app_client
    key_id, key = await _key(gateway, "acme", "deployer")
    acme = gateway.auth(key)
    created = await client.post("/v1/prompts", json={"name": "support", "messages": SYSTEM}, headers=acme)
    assert created.status_code == 201, created.text
    version = await client.post(
        "/v1/prompts/support/versions",
        json={
            "messages": [{"role": "system", "content": "You help Acme's customers."}],
            "labels": ["staging"],
        },
        headers=acme,
    )
    assert version.status_code == 201, version.text
    prompt_before = (await client.get("/v1/prompts/support", headers=acme)).json()
    moved = await client.put(
        "/v1/prompts/support/labels/production",
        json={"version": 2},
        headers={**acme, "x-request-id": "deploy-42"},
    )
    assert moved.status_code == 200, moved.text
    prompt_after = (await client.get("/v1/prompts/support", headers=acme)).json()

    # Newest first; the oldest is the admin's creation of the key.
    label, new_version, new_prompt, new_key = await _entries(gateway, key)
    assert (new_key["action"], new_key["resource_id"]) == ("api_key.created", key_id)
    assert label["action"] == "prompt.label.moved"
    assert (label["resource_type"], label["resource_id"]) == ("prompt", "support")
    assert label["actor"] == {"key_id": key_id, "key_name": "deployer"}
    assert label["before"] == prompt_before and label["before"]["labels"] == {"production": 1, "staging": 2}
    assert label["after"] == prompt_after and label["after"]["labels"] == {"production": 2, "staging": 2}
    assert label["request_id"] == "deploy-42" == moved.headers["x-request-id"]
    assert label["tenant_id"] == "acme" and label["object"] == "audit.entry"
    assert label["id"].startswith("audit-") and label["created_at"] > 0

    assert new_version["action"] == "prompt.version.created"
    assert (new_version["resource_type"], new_version["resource_id"]) == (
        "prompt_version",
        "support/versions/2",
    )
    assert new_version["before"] is None and new_version["after"] == version.json()
    assert new_version["request_id"] == version.headers["x-request-id"]
    assert (new_prompt["action"], new_prompt["before"], new_prompt["after"]) == (
        "prompt.created",
        None,
        created.json(),
    )

    deleted = await client.delete("/v1/prompts/support/labels/staging", headers=acme)
    assert deleted.status_code == 200, deleted.text
    [label_deleted] = await _entries(gateway, key, action="prompt.label.deleted")
    assert label_deleted["before"] == prompt_after and label_deleted["after"] == deleted.json()
    assert "staging" not in label_deleted["after"]["labels"]


async def test_experiment_changes_are_recorded(gateway: Gateway) -> None:
    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    await client.post("/v1/prompts", json={"name": "p", "messages": SYSTEM}, headers=acme)
    await client.post(
        "/v1/prompts/p/versions", json={"messages": [{"role": "system", "content": "B"}]}, headers=acme
    )
    body = {
        "name": "a/b",
        "prompt": "p",
        "variants": [{"name": "a", "version": 1}, {"name": "b", "version": 2}],
    }
    experiment = (await client.post("/v1/experiments", json=body, headers=acme)).json()
    path = f"/v1/experiments/{experiment['id']}"
    started = (await client.post(f"{path}/start", headers=acme)).json()
    prompt_before = (await client.get("/v1/prompts/p", headers=acme)).json()
    promoted = await client.post(f"{path}/promote", json={"variant": "b"}, headers=acme)
    assert promoted.status_code == 200, promoted.text
    completed = (await client.get(path, headers=acme)).json()
    assert (await client.delete(path, headers=acme)).status_code == 200

    entries = await _entries(gateway, gateway.acme_key, resource_type="experiment")
    assert [e["action"] for e in entries] == [
        "experiment.deleted",
        "experiment.promoted",
        "experiment.started",
        "experiment.created",
    ]
    assert {e["resource_id"] for e in entries} == {experiment["id"]}
    deleted_entry, promoted_entry, started_entry, created_entry = entries
    assert (created_entry["before"], created_entry["after"]) == (None, experiment)
    assert (started_entry["before"], started_entry["after"]) == (experiment, started)
    assert (promoted_entry["before"], promoted_entry["after"]) == (started, completed)
    assert (deleted_entry["before"], deleted_entry["after"]) == (completed, None)
    # The promotion moved the prompt's label: the prompt's log shows that too.
    [label] = await _entries(gateway, gateway.acme_key, resource_type="prompt", action="prompt.label.moved")
    assert (label["resource_id"], label["before"]) == ("p", prompt_before)
    assert (label["before"]["labels"], label["after"]["labels"]) == ({"production": 1}, {"production": 2})
    assert label["request_id"] == promoted_entry["request_id"] == promoted.headers["x-request-id"]


async def test_a_failed_change_records_nothing(gateway: Gateway) -> None:
    client, acme, admin = gateway.app_client, gateway.auth(gateway.acme_key), _admin(gateway)
    await client.post("/v1/prompts", json={"name": "p", "messages": SYSTEM}, headers=acme)
    before = await _entries(gateway, gateway.acme_key)
    assert [e["action"] for e in before] == ["prompt.created"]
    failures = [
        ("PUT", "/v1/prompts/missing/labels/production", {"version": 1}, 404),
        ("PUT", "/v1/prompts/p/labels/production", {"version": 9}, 404),
        ("POST", "/v1/prompts/missing/versions", {"messages": SYSTEM}, 404),
        ("POST", "/v1/experiments/exp-missing/start", None, 404),
        ("DELETE", "/v1/assistants/missing", None, 404),
        ("DELETE", "/v1/model_aliases/missing", None, 404),
        ("POST", "/v1/prompts", {"name": "p", "messages": SYSTEM}, 409),
    ]
    for method, path, body, status in failures:
        response = await client.request(method, path, json=body, headers=acme)
        assert response.status_code == status, (path, response.text)
    for method, path, body, status in [
        ("DELETE", "/admin/keys/key_missing", None, 404),
        ("POST", "/admin/keys", {"tenant_id": "acme", "role": "admin"}, 400),
        ("POST", "/admin/tenants/acme", {"rate_limits": {"requests_per_minute": -1}}, 400),
    ]:
        response = await client.request(method, path, json=body, headers=admin)
        assert response.status_code == status, (path, response.text)
    assert await _entries(gateway, gateway.acme_key) == before


async def test_an_admin_change_to_a_key_is_in_that_tenants_log_only(gateway: Gateway) -> None:
    client, admin = gateway.app_client, _admin(gateway)
    key_id, raw_key = await _key(gateway, "acme", "ci")
    keys = (await client.get("/admin/keys", params={"tenant_id": "acme"}, headers=admin)).json()["data"]
    key_before = next(k for k in keys if k["id"] == key_id)
    revoked = await client.delete(f"/admin/keys/{key_id}", headers=admin)
    assert revoked.status_code == 200, revoked.text
    keys = (await client.get("/admin/keys", params={"tenant_id": "acme"}, headers=admin)).json()["data"]
    key_after = next(k for k in keys if k["id"] == key_id)
    assert key_after["revoked_at"] is not None

    entries = await _entries(gateway, gateway.acme_key, resource_id=key_id)
    assert [e["action"] for e in entries] == ["api_key.revoked", "api_key.created"]
    revoked_entry, created_entry = entries
    admin_key = gateway.services.authenticator
    principal = await admin_key.authenticate(gateway.settings.bootstrap_key)
    for entry in entries:
        assert entry["tenant_id"] == "acme" and entry["resource_type"] == "api_key"
        assert entry["actor"]["key_id"] == principal.key_id
    assert (revoked_entry["before"], revoked_entry["after"]) == (key_before, key_after)
    # The key object as /admin/keys shows it: redacted, never the raw key.
    assert created_entry["before"] is None and created_entry["after"] == key_before
    assert raw_key not in json.dumps(entries)

    # Neither the other tenant nor the admin's own tenant sees it.
    assert await _entries(gateway, gateway.globex_key) == []
    assert await _entries(gateway, gateway.settings.bootstrap_key, resource_id=key_id) == []
    # And globex's own changes stay out of acme's log.
    await client.post(
        "/v1/prompts", json={"name": "g", "messages": SYSTEM}, headers=gateway.auth(gateway.globex_key)
    )
    [globex_entry] = await _entries(gateway, gateway.globex_key)
    assert globex_entry["resource_id"] == "g"
    assert all(e["tenant_id"] == "acme" for e in await _entries(gateway, gateway.acme_key))
    # Another tenant's entry is no cursor here.
    response = await client.get(
        "/v1/audit", params={"after": globex_entry["id"]}, headers=gateway.auth(gateway.acme_key)
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "after"


async def test_pages_and_filters(gateway: Gateway) -> None:
    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    await client.post("/v1/prompts", json={"name": "p", "messages": SYSTEM}, headers=acme)
    for n in range(2, 7):
        content = [{"role": "system", "content": f"Version {n}."}]
        assert (
            await client.post("/v1/prompts/p/versions", json={"messages": content}, headers=acme)
        ).is_success
    everything = await _entries(gateway, gateway.acme_key)
    assert [e["resource_id"] for e in everything] == [*(f"p/versions/{n}" for n in range(6, 1, -1)), "p"]

    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = await _audit(gateway, gateway.acme_key, limit=4, **({"after": after} if after else {}))
        assert page["object"] == "list" and len(page["data"]) <= 4
        assert (page["first_id"], page["last_id"]) == (page["data"][0]["id"], page["data"][-1]["id"])
        seen += page["data"]
        after = page["last_id"]
        if not page["has_more"]:
            break
    assert seen == everything
    first = await _audit(gateway, gateway.acme_key)
    assert first["data"] == everything and first["has_more"] is False  # the default limit is 20

    versions = await _entries(gateway, gateway.acme_key, action="prompt.version.created")
    assert versions == everything[:5]
    assert await _entries(gateway, gateway.acme_key, resource_type="prompt") == everything[5:]
    assert await _entries(gateway, gateway.acme_key, resource_id="p/versions/3") == [everything[3]]
    assert await _entries(gateway, gateway.acme_key, resource_type="prompt", resource_id="p/versions/3") == []
    page = await _audit(
        gateway, gateway.acme_key, action="prompt.version.created", limit=2, after=versions[1]["id"]
    )
    assert (page["data"], page["has_more"]) == (versions[2:4], True)
    empty = await _audit(gateway, gateway.globex_key)
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}

    for query, param in (
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"after": "audit-nope"}, "after"),
    ):
        response = await client.get("/v1/audit", params=query, headers=acme)
        assert response.status_code == 400 and response.json()["error"]["param"] == param, response.text
    assert (await client.get("/v1/audit")).status_code == 401


async def test_a_failed_write_of_the_entry_does_not_fail_the_change(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    # The audit table gone (a real failure of the real database): the change still answers.
    async with gateway.services.db.begin() as connection:
        await connection.execute(text("DROP TABLE audit_entries"))
    with caplog.at_level(logging.ERROR, logger="tuneway.gateway.audit.service"):
        key_id, raw_key = await _key(gateway, "acme", "after-the-outage")
    keys = await gateway.app_client.get("/admin/keys", params={"tenant_id": "acme"}, headers=_admin(gateway))
    assert key_id in {k["id"] for k in keys.json()["data"]}
    [record] = [r for r in caplog.records if r.name == "tuneway.gateway.audit.service"]
    assert "api_key.created" in record.getMessage() and key_id in record.getMessage()
    assert raw_key not in caplog.text


async def test_tenant_and_quota_changes_are_in_the_tenants_log(gateway: Gateway) -> None:
    client, admin = gateway.app_client, _admin(gateway)
    tenant = await client.post("/admin/tenants", json={"name": "initech"}, headers=admin)
    assert tenant.status_code == 201, tenant.text
    tenant_id = tenant.json()["id"]
    key_id, key = await _key(gateway, tenant_id, "ops")
    limits = {"rate_limits": {"requests_per_minute": 60, "tokens_per_minute": None}}
    tenant_after = await client.post(f"/admin/tenants/{tenant_id}", json=limits, headers=admin)
    key_after = await client.post(f"/admin/keys/{key_id}", json=limits, headers=admin)
    assert tenant_after.status_code == key_after.status_code == 200

    key_updated, tenant_updated, key_created, tenant_created = await _entries(gateway, key)
    assert (tenant_created["action"], tenant_created["before"]) == ("tenant.created", None)
    assert tenant_created["after"] == tenant.json() and tenant_created["resource_id"] == tenant_id
    assert (tenant_updated["action"], tenant_updated["before"]) == ("tenant.updated", tenant.json())
    assert tenant_updated["after"] == tenant_after.json()
    assert tenant_updated["after"]["rate_limits"]["requests_per_minute"] == 60
    assert (key_created["action"], key_updated["action"]) == ("api_key.created", "api_key.updated")
    assert (key_updated["before"], key_updated["after"]) == (key_created["after"], key_after.json())
    assert await _entries(gateway, gateway.acme_key) == []
