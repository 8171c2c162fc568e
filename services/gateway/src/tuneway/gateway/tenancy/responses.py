"""Tenants and API keys as the JSON objects of /admin."""

from __future__ import annotations

from typing import Any

from tuneway.gateway.tenancy.tables import ApiKey, Tenant


def tenant_object(tenant: Tenant) -> dict[str, Any]:
    """The API object of a tenant."""
    return {"id": tenant.id, "object": "tenant", "name": tenant.name, "created_at": tenant.created_at}


def key_object(key: ApiKey) -> dict[str, Any]:
    """The API object of a key: never the raw key or its hash."""
    return {
        "id": key.id,
        "object": "api_key",
        "tenant_id": key.tenant_id,
        "role": key.role,
        "name": key.name,
        "redacted": key.redacted,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def created_key_object(key: ApiKey, raw_key: str) -> dict[str, Any]:
    """A new key's object with the raw `key`, shown this once only."""
    return {**key_object(key), "key": raw_key}
