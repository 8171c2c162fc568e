"""API keys: how raw keys are made, stored (a sha256 hash) and shown (redacted), and who they stand for."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from tuneway.gateway.rate_limits.quotas import Quota
from tuneway.gateway.tenancy.tables import ApiKey

KEY_PREFIX = "sk-tw-"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's tenant, its role, the key's id, and the quotas its requests count
    against (the key's and the tenant's, those that set a limit)."""

    tenant_id: str
    role: str
    key_id: str
    quotas: tuple[Quota, ...] = ()


def hash_key(raw_key: str) -> str:
    """sha256 hex of a raw key: how keys are stored and looked up."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> str:
    """A new raw key: the prefix and 32 random bytes."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def redact(raw_key: str, head: int = 6) -> str:
    """The first `head` and last 4 characters; a key too short to show any of it safely shows none."""
    if len(raw_key) < head + 12:
        return "…"
    return f"{raw_key[:head]}…{raw_key[-4:]}"


def new_api_key(tenant_id: str, role: str, name: str, raw_key: str, expires_at: int | None = None) -> ApiKey:
    """The row of a new key: its hash and redacted form, never the raw key."""
    return ApiKey(
        id=f"key_{secrets.token_hex(12)}",
        tenant_id=tenant_id,
        role=role,
        name=name,
        key_hash=hash_key(raw_key),
        redacted=redact(raw_key, head=8),
        created_at=int(time.time()),
        revoked_at=None,
        expires_at=expires_at,
    )
