"""Operator resources under /admin: tenants and API keys (admin keys only)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.gateway.deps import AdminPrincipal, Tenancy
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.openapi import documented, errors
from tuneway.gateway.tenancy.responses import (
    CreatedKey,
    KeyObject,
    TenantObject,
    created_key_object,
    key_object,
    tenant_object,
)
from tuneway.gateway.tenancy.schemas import CreateKeyRequest, CreateTenantRequest, UpdateLimitsRequest

# Every route needs an admin key.
router = APIRouter(prefix="/admin", tags=["admin"], responses=errors(403))


@router.post(
    "/tenants",
    responses=documented(TenantObject, 409, status=201),
    status_code=201,
    summary="Create a tenant",
)
async def create_tenant(body: CreateTenantRequest, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """201 with the tenant; 409 tenant_exists for a taken name or id."""
    return json_response(tenant_object(await tenancy.create_tenant(body.name, body.id)), 201)


@router.get("/tenants", responses=documented(ListObject[TenantObject]), summary="List tenants")
async def list_tenants(_: AdminPrincipal, tenancy: Tenancy) -> Response:
    """Every tenant, oldest first."""
    return json_response(list_object([tenant_object(t) for t in await tenancy.list_tenants()]))


@router.get("/tenants/{tenant_id}", responses=documented(TenantObject, 404), summary="Retrieve a tenant")
async def get_tenant(tenant_id: str, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """One tenant, or 404."""
    return json_response(tenant_object(await tenancy.get_tenant(tenant_id)))


@router.post(
    "/tenants/{tenant_id}", responses=documented(TenantObject, 404), summary="Set a tenant's rate limits"
)
async def update_tenant(
    tenant_id: str, body: UpdateLimitsRequest, _: AdminPrincipal, tenancy: Tenancy
) -> Response:
    """Sets the quotas of all the tenant's keys together: requests and tokens per minute (null: none)."""
    limits = body.rate_limits
    tenant = await tenancy.set_tenant_limits(tenant_id, limits.requests_per_minute, limits.tokens_per_minute)
    return json_response(tenant_object(tenant))


@router.post(
    "/keys", responses=documented(CreatedKey, 404, status=201), status_code=201, summary="Create an API key"
)
async def create_key(body: CreateKeyRequest, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """201 with the key object; its `key` field holds the raw key, shown this once only."""
    key, raw_key = await tenancy.create_key(body.tenant_id, body.role, body.name, body.expires_at)
    return json_response(created_key_object(key, raw_key), 201)


@router.get("/keys", responses=documented(ListObject[KeyObject], 404), summary="List API keys")
async def list_keys(_: AdminPrincipal, tenancy: Tenancy, tenant_id: str | None = None) -> Response:
    """Keys of one tenant, or of every tenant; redacted only."""
    return json_response(list_object([key_object(k) for k in await tenancy.list_keys(tenant_id)]))


@router.post("/keys/{key_id}", responses=documented(KeyObject, 404), summary="Set an API key's rate limits")
async def update_key(key_id: str, body: UpdateLimitsRequest, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """Sets the key's own quotas (its tenant's apply too): requests and tokens per minute (null: none)."""
    limits = body.rate_limits
    key = await tenancy.set_key_limits(key_id, limits.requests_per_minute, limits.tokens_per_minute)
    return json_response(key_object(key))


@router.delete("/keys/{key_id}", responses=documented(Deleted, 404), summary="Revoke an API key")
async def revoke_key(key_id: str, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """Revokes the key: refused at once by this gateway, by other replicas within their key cache TTL."""
    revoked = await tenancy.revoke_key(key_id)
    return json_response(deleted(revoked.id, "api_key"))
