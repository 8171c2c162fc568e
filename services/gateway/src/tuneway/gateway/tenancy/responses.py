"""Tenants and API keys as the JSON objects of /admin."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.gateway.tenancy.tables import ApiKey, Tenant


class TenantObject(TypedDict):
    """A tenant: a customer of the platform."""

    id: str
    object: Literal["tenant"]
    name: str
    created_at: int


class KeyObject(TypedDict):
    """An API key, redacted: never the raw key or its hash."""

    id: str
    object: Literal["api_key"]
    tenant_id: str
    role: str
    name: str
    redacted: str
    created_at: int
    revoked_at: int | None


class CreatedKey(KeyObject):
    """A new API key with the raw `key`, shown this once only."""

    key: str


def tenant_object(tenant: Tenant) -> TenantObject:
    """The API object of a tenant."""
    return {"id": tenant.id, "object": "tenant", "name": tenant.name, "created_at": tenant.created_at}


def key_object(key: ApiKey) -> KeyObject:
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


def created_key_object(key: ApiKey, raw_key: str) -> CreatedKey:
    """A new key's object with the raw `key`, shown this once only."""
    return {**key_object(key), "key": raw_key}
