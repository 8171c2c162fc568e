"""Operator resources under /admin: tenants and API keys (admin keys only)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from tuneway.gateway.deps import AdminPrincipal, Tenancy
from tuneway.gateway.tenancy.schemas import CreateKeyRequest, CreateTenantRequest

router = APIRouter(prefix="/admin", tags=["admin"])


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


@router.post("/tenants", status_code=201, summary="Create a tenant")
async def create_tenant(body: CreateTenantRequest, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """201 with the tenant; 409 tenant_exists for a taken name or id."""
    return _json(await tenancy.create_tenant(body.name, body.id), 201)


@router.get("/tenants", summary="List tenants")
async def list_tenants(_: AdminPrincipal, tenancy: Tenancy) -> Response:
    """Every tenant, oldest first."""
    return _json({"object": "list", "data": await tenancy.list_tenants()})


@router.get("/tenants/{tenant_id}", summary="Retrieve a tenant")
async def get_tenant(tenant_id: str, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """One tenant, or 404."""
    return _json(await tenancy.get_tenant(tenant_id))


@router.post("/keys", status_code=201, summary="Create an API key")
async def create_key(body: CreateKeyRequest, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """201 with the key object; its `key` field holds the raw key, shown this once only."""
    return _json(await tenancy.create_key(body.tenant_id, body.role, body.name), 201)


@router.get("/keys", summary="List API keys")
async def list_keys(_: AdminPrincipal, tenancy: Tenancy, tenant_id: str | None = None) -> Response:
    """Keys of one tenant, or of every tenant; redacted only."""
    return _json({"object": "list", "data": await tenancy.list_keys(tenant_id)})


@router.delete("/keys/{key_id}", summary="Revoke an API key")
async def revoke_key(key_id: str, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """Revokes the key: refused at once by this gateway, by other replicas within their key cache TTL."""
    revoked = await tenancy.revoke_key(key_id)
    return _json({"id": revoked["id"], "object": "api_key", "deleted": True})
