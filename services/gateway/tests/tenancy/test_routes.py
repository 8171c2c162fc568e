"""The /admin routes over a real SQLite database, in a minimal app with the gateway's error handlers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.gateway.app import MIGRATIONS
from tuneway.gateway.audit.service import AuditLog
from tuneway.gateway.errors import install_error_handlers
from tuneway.gateway.tenancy import routes as admin
from tuneway.gateway.tenancy.admin import TenancyAdmin
from tuneway.gateway.tenancy.authentication import Authenticator
from tuneway.gateway.tenancy.bootstrap import bootstrap

ADMIN_KEY = "sk-tw-routes-admin-0123456789abcdef0123456789abcdef"


@dataclass
class Admin:
    client: httpx.AsyncClient
    authenticator: Authenticator
    tenancy: TenancyAdmin

    def auth(self, key: str = ADMIN_KEY) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def api(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Admin]:
    """A client of an app holding only the admin router, bootstrapped with ADMIN_KEY."""
    await upgrade_database(sqlite_url, MIGRATIONS)
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await bootstrap(sessions, ADMIN_KEY, tmp_path / "admin_key")
    authenticator = Authenticator(sessions)
    tenancy = TenancyAdmin(sessions, authenticator)
    app = FastAPI()
    app.state.services = SimpleNamespace(
        authenticator=authenticator, tenancy=tenancy, audit=AuditLog(sessions)
    )
    install_error_handlers(app, 1)
    app.include_router(admin.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client:
        yield Admin(client, authenticator, tenancy)
    await engine.dispose()


async def test_authentication_and_role(api: Admin) -> None:
    response = await api.client.get("/admin/tenants")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"

    response = await api.client.get("/admin/tenants", headers=api.auth("sk-tw-wrong-key-0123456789abcdef"))
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Incorrect API key provided: sk-tw-…cdef. "
            "You can find your API key in your tuneway admin.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }

    _, member_key = await api.tenancy.create_key("default", "member")
    response = await api.client.get("/admin/tenants", headers=api.auth(member_key))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_permissions"


async def test_tenants(api: Admin) -> None:
    response = await api.client.post("/admin/tenants", json={"name": "acme"}, headers=api.auth())
    assert response.status_code == 201, response.text
    acme = response.json()
    assert acme["object"] == "tenant" and acme["name"] == "acme" and acme["id"] == "acme"
    assert set(acme) == {"id", "object", "name", "created_at", "rate_limits"}
    assert acme["rate_limits"] == {"requests_per_minute": None, "tokens_per_minute": None}

    response = await api.client.post("/admin/tenants", json={"name": "acme"}, headers=api.auth())
    assert response.status_code == 409 and response.json()["error"]["code"] == "tenant_exists"
    response = await api.client.post("/admin/tenants", json={"name": "Bad Name"}, headers=api.auth())
    assert response.status_code == 400 and response.json()["error"]["param"] == "name"
    response = await api.client.post("/admin/tenants", json={"name": "x", "owner": "y"}, headers=api.auth())
    assert response.status_code == 400 and response.json()["error"]["param"] == "owner"
    response = await api.client.post("/admin/tenants", json={}, headers=api.auth())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"
    assert response.json()["error"]["param"] == "name"

    response = await api.client.post(
        "/admin/tenants", json={"name": "globex", "id": "globex"}, headers=api.auth()
    )
    assert response.status_code == 201 and response.json()["id"] == "globex"
    response = await api.client.get("/admin/tenants", headers=api.auth())
    assert response.json()["object"] == "list"
    assert sorted(t["name"] for t in response.json()["data"]) == ["acme", "default", "globex"]
    response = await api.client.get(f"/admin/tenants/{acme['id']}", headers=api.auth())
    assert response.status_code == 200 and response.json() == acme
    response = await api.client.get("/admin/tenants/nope", headers=api.auth())
    assert response.status_code == 404 and response.json()["error"]["code"] == "tenant_not_found"


async def test_keys(api: Admin) -> None:
    tenant = (await api.client.post("/admin/tenants", json={"name": "acme"}, headers=api.auth())).json()
    body = {"tenant_id": tenant["id"], "role": "member", "name": "web"}
    response = await api.client.post("/admin/keys", json=body, headers=api.auth())
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) >= {"id", "object", "tenant_id", "role", "name", "redacted", "created_at", "key"}
    assert created["object"] == "api_key" and created["tenant_id"] == tenant["id"]
    assert (await api.authenticator.authenticate(created["key"])).tenant_id == tenant["id"]

    response = await api.client.post("/admin/keys", json={**body, "role": "owner"}, headers=api.auth())
    assert response.status_code == 400 and response.json()["error"]["param"] == "role"
    response = await api.client.post("/admin/keys", json={"role": "member"}, headers=api.auth())
    assert response.status_code == 400 and response.json()["error"]["param"] == "tenant_id"
    response = await api.client.post("/admin/keys", json={"tenant_id": "nope"}, headers=api.auth())
    assert response.status_code == 404 and response.json()["error"]["param"] == "tenant_id"
    for past in (1, -5):
        response = await api.client.post("/admin/keys", json={**body, "expires_at": past}, headers=api.auth())
        assert response.status_code == 400 and response.json()["error"]["param"] == "expires_at"
    assert created["expires_at"] is None

    response = await api.client.get("/admin/keys", params={"tenant_id": tenant["id"]}, headers=api.auth())
    assert response.status_code == 200
    listed = response.json()["data"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert created["key"] not in response.text and "key" not in listed[0]
    response = await api.client.get("/admin/keys", headers=api.auth())
    assert len(response.json()["data"]) == 2  # the bootstrap admin key too
    later = int(time.time()) + 3600
    response = await api.client.post("/admin/keys", json={**body, "expires_at": later}, headers=api.auth())
    assert response.status_code == 201 and response.json()["expires_at"] == later
    await api.client.delete(f"/admin/keys/{response.json()['id']}", headers=api.auth())

    response = await api.client.delete(f"/admin/keys/{created['id']}", headers=api.auth())
    assert response.status_code == 200
    assert response.json() == {"id": created["id"], "object": "api_key", "deleted": True}
    response = await api.client.get("/admin/tenants", headers=api.auth(created["key"]))
    assert response.status_code == 401
    response = await api.client.delete("/admin/keys/key_missing", headers=api.auth())
    assert response.status_code == 404
