"""Assistants and model aliases in the audit log, through the stack: creating one makes the gateway ask
inference about the base model, so these run over the session's stack rather than starting an engine of
their own. Each test makes its own tenants, so a tenant's log holds only what the test did there."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import RunningStack, Tenant, make_tenant

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
SYSTEM = [{"role": "system", "content": "You help customers of Acme."}]
# What make_tenant writes in a new tenant's log, newest first as the log lists it: all a tenant's log
# holds when the test changed nothing there.
MADE = ["api_key.created", "tenant.created"]


def _http(stack: RunningStack, tenant: Tenant) -> httpx.Client:
    return httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {tenant.key}"}, timeout=60
    )


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _entries(http: httpx.Client, **query: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = _ok(http.get("/v1/audit", params={"limit": 100, **query}))["data"]
    return data


def _key_id(stack: RunningStack, tenant: Tenant) -> str:
    """The id of the tenant's one key (make_tenant's, named `e2e`)."""
    with stack.admin() as admin:
        (key,) = _ok(admin.get("/admin/keys", params={"tenant_id": tenant.id}))["data"]
    assert key["name"] == "e2e"
    key_id: str = key["id"]
    return key_id


def test_assistant_changes_are_recorded(stack: RunningStack) -> None:
    owner, other = make_tenant(stack, "audit-assistants"), make_tenant(stack, "audit-assistants-other")
    key_id = _key_id(stack, owner)
    with _http(stack, owner) as acme, _http(stack, other) as globex:
        for name in ("support", "sales"):
            _ok(acme.post("/v1/prompts", json={"name": name, "messages": SYSTEM}), 201)
        body = {"name": "helpdesk", "base_model": BASE, "prompt": "support", "description": "Help"}
        created = acme.post("/v1/assistants", json=body, headers={"x-request-id": "audit-e2e-bot-1"})
        _ok(created, 201)
        path = "/v1/assistants/helpdesk"
        updated = acme.post(path, json={"prompt": "sales", "description": "Sales"})
        _ok(updated)
        # Failed changes record nothing: a model the tenant cannot call, an unknown assistant, a name
        # taken, and another tenant's attempts on this one's assistant.
        for client, method, url, json, status in [
            (acme, "POST", path, {"base_model": "gpt-nope"}, 400),
            (acme, "POST", "/v1/assistants/missing", {"description": "x"}, 404),
            (acme, "POST", "/v1/assistants", body, 409),
            (globex, "POST", path, {"description": "Globex's now"}, 404),
            (globex, "DELETE", path, None, 404),
        ]:
            response = client.request(method, url, json=json)
            assert response.status_code == status, (method, url, response.text)
        current = _ok(acme.get(path))
        deleted = acme.delete(path)
        _ok(deleted)

        entries = _entries(acme, resource_type="assistant")
        assert [e["action"] for e in entries] == [
            "assistant.deleted",
            "assistant.updated",
            "assistant.created",
        ]
        for entry, response in zip(entries, (deleted, updated, created), strict=True):
            assert (entry["resource_id"], entry["tenant_id"]) == ("helpdesk", owner.id)
            assert entry["actor"] == {"key_id": key_id, "key_name": "e2e"}
            assert entry["request_id"] == response.headers["x-request-id"]
        deleted_entry, updated_entry, created_entry = entries
        assert created_entry["request_id"] == "audit-e2e-bot-1"
        assert (created_entry["before"], created_entry["after"]) == (None, created.json())
        assert (updated_entry["before"], updated_entry["after"]) == (created.json(), updated.json())
        assert (updated_entry["before"]["prompt"], updated_entry["after"]["prompt"]) == ("support", "sales")
        assert (updated_entry["before"]["description"], updated_entry["after"]["description"]) == (
            "Help",
            "Sales",
        )
        assert (deleted_entry["before"], deleted_entry["after"]) == (current, None)
        assert current == updated.json()

        # Nothing else was written for the owner beyond the tenant's and key's creation (whose entry
        # names the key the actor above is), and the other tenant sees none of it.
        everything = _entries(acme)
        assert [e["action"] for e in everything] == [
            *(e["action"] for e in entries),
            "prompt.created",
            "prompt.created",
            *MADE,
        ]
        assert everything[-2]["resource_id"] == key_id
        assert [e["action"] for e in _entries(globex)] == MADE


def test_model_alias_changes_are_recorded(stack: RunningStack) -> None:
    owner, other = make_tenant(stack, "audit-aliases"), make_tenant(stack, "audit-aliases-other")
    key_id = _key_id(stack, owner)
    with _http(stack, owner) as acme, _http(stack, other) as globex:
        _ok(acme.post("/v1/prompts", json={"name": "support", "messages": SYSTEM}), 201)
        _ok(
            acme.post("/v1/assistants", json={"name": "helpdesk", "base_model": BASE, "prompt": "support"}),
            201,
        )
        path = "/v1/model_aliases/gpt-4o-mini"
        created = acme.put(path, json={"target": BASE})
        _ok(created)
        moved = acme.put(path, json={"target": "assistant:helpdesk"})
        _ok(moved)
        # A target the tenant cannot call, and the other tenant's attempt: nothing recorded.
        for client, method, json, status in [
            (acme, "PUT", {"target": "assistant:nope"}, 400),
            (globex, "DELETE", None, 404),
        ]:
            response = client.request(method, path, json=json)
            assert response.status_code == status, response.text
        deleted = acme.delete(path, headers={"x-request-id": "audit-e2e-alias-1"})
        _ok(deleted)

        entries = _entries(acme, resource_type="model_alias")
        assert [e["action"] for e in entries] == ["model_alias.deleted", "model_alias.set", "model_alias.set"]
        assert {e["resource_id"] for e in entries} == {"gpt-4o-mini"}
        for entry, response in zip(entries, (deleted, moved, created), strict=True):
            assert entry["actor"] == {"key_id": key_id, "key_name": "e2e"}
            assert entry["request_id"] == response.headers["x-request-id"]
        deleted_entry, moved_entry, created_entry = entries
        assert (created_entry["before"], created_entry["after"]) == (None, created.json())
        assert (moved_entry["before"], moved_entry["after"]) == (created.json(), moved.json())
        assert (moved_entry["before"]["target"], moved_entry["after"]["target"]) == (
            BASE,
            "assistant:helpdesk",
        )
        assert (deleted_entry["before"], deleted_entry["after"]) == (moved.json(), None)
        assert deleted_entry["request_id"] == "audit-e2e-alias-1"
        assert [e["action"] for e in _entries(globex)] == MADE
