"""Operator resources under /admin: tenants and API keys (admin keys only)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from tuneway.gateway.audit.service import read_before
from tuneway.gateway.deps import AdminPrincipal, AuditTrail, Tenancy
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.openapi import documented, errors
from tuneway.gateway.tenancy.admin import TenancyAdmin
from tuneway.gateway.tenancy.responses import (
    CreatedKey,
    KeyObject,
    TenantObject,
    created_key_object,
    key_object,
    tenant_object,
)
from tuneway.gateway.tenancy.schemas import CreateKeyRequest, CreateTenantRequest, UpdateLimitsRequest

# Every route needs an admin key. Changes are audited in the tenant they change (its log shows them, with
# the admin's key as the actor), keys as key_object shows them: never the raw key.
router = APIRouter(prefix="/admin", tags=["admin"], responses=errors(403))


async def _read_tenant(tenancy: TenancyAdmin, tenant_id: str) -> TenantObject:
    """The tenant as GET /admin/tenants/{tenant_id} shows it."""
    return tenant_object(await tenancy.get_tenant(tenant_id))


async def _read_key(tenancy: TenancyAdmin, key_id: str) -> KeyObject:
    """The key as GET /admin/keys shows it."""
    return key_object(await tenancy.get_key(key_id))


@router.post(
    "/tenants",
    responses=documented(TenantObject, 409, status=201),
    status_code=201,
    summary="Create a tenant",
)
async def create_tenant(
    body: CreateTenantRequest, admin: AdminPrincipal, tenancy: Tenancy, audit: AuditTrail
) -> Response:
    """201 with the tenant; 409 tenant_exists for a taken name or id."""
    created = tenant_object(await tenancy.create_tenant(body.name, body.id))
    tenant_id = created["id"]
    await audit.record(admin, "tenant.created", "tenant", tenant_id, None, created, tenant_id=tenant_id)
    return json_response(created, 201)


@router.get("/tenants", responses=documented(ListObject[TenantObject]), summary="List tenants")
async def list_tenants(_: AdminPrincipal, tenancy: Tenancy) -> Response:
    """Every tenant, oldest first."""
    return json_response(list_object([tenant_object(t) for t in await tenancy.list_tenants()]))


@router.get("/tenants/{tenant_id}", responses=documented(TenantObject, 404), summary="Retrieve a tenant")
async def get_tenant(tenant_id: str, _: AdminPrincipal, tenancy: Tenancy) -> Response:
    """One tenant, or 404."""
    return json_response(await _read_tenant(tenancy, tenant_id))


@router.post(
    "/tenants/{tenant_id}", responses=documented(TenantObject, 404), summary="Set a tenant's rate limits"
)
async def update_tenant(
    tenant_id: str, body: UpdateLimitsRequest, admin: AdminPrincipal, tenancy: Tenancy, audit: AuditTrail
) -> Response:
    """Sets the quotas of all the tenant's keys together: requests and tokens per minute (null: none)."""
    limits = body.rate_limits
    before = await read_before(_read_tenant(tenancy, tenant_id))
    tenant = await tenancy.set_tenant_limits(tenant_id, limits.requests_per_minute, limits.tokens_per_minute)
    after = tenant_object(tenant)
    await audit.record(admin, "tenant.updated", "tenant", tenant_id, before, after, tenant_id=tenant_id)
    return json_response(after)


@router.post(
    "/keys", responses=documented(CreatedKey, 404, status=201), status_code=201, summary="Create an API key"
)
async def create_key(
    body: CreateKeyRequest, admin: AdminPrincipal, tenancy: Tenancy, audit: AuditTrail
) -> Response:
    """201 with the key object; its `key` field holds the raw key, shown this once only."""
    key, raw_key = await tenancy.create_key(body.tenant_id, body.role, body.name, body.expires_at)
    # The audit log keeps the redacted key object only.
    await audit.record(
        admin, "api_key.created", "api_key", key.id, None, key_object(key), tenant_id=key.tenant_id
    )
    return json_response(created_key_object(key, raw_key), 201)


@router.get("/keys", responses=documented(ListObject[KeyObject], 404), summary="List API keys")
async def list_keys(_: AdminPrincipal, tenancy: Tenancy, tenant_id: str | None = None) -> Response:
    """Keys of one tenant, or of every tenant; redacted only."""
    return json_response(list_object([key_object(k) for k in await tenancy.list_keys(tenant_id)]))


@router.post("/keys/{key_id}", responses=documented(KeyObject, 404), summary="Set an API key's rate limits")
async def update_key(
    key_id: str, body: UpdateLimitsRequest, admin: AdminPrincipal, tenancy: Tenancy, audit: AuditTrail
) -> Response:
    """Sets the key's own quotas (its tenant's apply too): requests and tokens per minute (null: none)."""
    limits = body.rate_limits
    before = await read_before(_read_key(tenancy, key_id))
    key = await tenancy.set_key_limits(key_id, limits.requests_per_minute, limits.tokens_per_minute)
    after = key_object(key)
    await audit.record(admin, "api_key.updated", "api_key", key_id, before, after, tenant_id=key.tenant_id)
    return json_response(after)


@router.delete("/keys/{key_id}", responses=documented(Deleted, 404), summary="Revoke an API key")
async def revoke_key(key_id: str, admin: AdminPrincipal, tenancy: Tenancy, audit: AuditTrail) -> Response:
    """Revokes the key: refused at once by this gateway, by other replicas within their key cache TTL."""
    before = await read_before(_read_key(tenancy, key_id))
    revoked = await tenancy.revoke_key(key_id)
    after = key_object(revoked)
    await audit.record(
        admin, "api_key.revoked", "api_key", key_id, before, after, tenant_id=revoked.tenant_id
    )
    return json_response(deleted(revoked.id, "api_key"))
