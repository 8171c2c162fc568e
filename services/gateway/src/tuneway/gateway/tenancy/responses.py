"""Tenants and API keys as the JSON objects of /admin."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.gateway.tenancy.tables import ApiKey, Tenant


class RateLimitsObject(TypedDict):
    """Per-minute quotas; null: no limit."""

    requests_per_minute: int | None
    tokens_per_minute: int | None


class TenantObject(TypedDict):
    """A tenant: a customer of the platform."""

    id: str
    object: Literal["tenant"]
    name: str
    created_at: int
    rate_limits: RateLimitsObject


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
    expires_at: int | None
    rate_limits: RateLimitsObject


class CreatedKey(KeyObject):
    """A new API key with the raw `key`, shown this once only."""

    key: str


def _rate_limits(holder: Tenant | ApiKey) -> RateLimitsObject:
    return {"requests_per_minute": holder.requests_per_minute, "tokens_per_minute": holder.tokens_per_minute}


def tenant_object(tenant: Tenant) -> TenantObject:
    """The API object of a tenant."""
    return {
        "id": tenant.id,
        "object": "tenant",
        "name": tenant.name,
        "created_at": tenant.created_at,
        "rate_limits": _rate_limits(tenant),
    }


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
        "expires_at": key.expires_at,
        "rate_limits": _rate_limits(key),
    }


def created_key_object(key: ApiKey, raw_key: str) -> CreatedKey:
    """A new key's object with the raw `key`, shown this once only."""
    return {**key_object(key), "key": raw_key}
