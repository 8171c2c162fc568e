"""API keys: authentication with a short-lived cache, the bootstrap admin key, tenants and keys admin."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError, UnavailableError
from tuneway.gateway.errors import AuthenticationError
from tuneway.gateway.tenancy import repository as repo
from tuneway.gateway.tenancy.tables import ROLES, ApiKey, Tenant

log = logging.getLogger(__name__)

DEFAULT_TENANT = "default"
KEY_PREFIX = "sk-tw-"
# Tenant names and ids end up inside model names (ft:<base>:<tenant>:<suffix>:<id>), so no ':' or case.
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_MAX_KEY_NAME = 256
# Expired cache entries are swept once the cache grows past this, so it stays bounded by live keys.
_CACHE_SWEEP_SIZE = 10_000


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's tenant, its role and the key's id."""

    tenant_id: str
    role: str
    key_id: str


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


def _check_slug(value: str, param: str) -> None:
    if not _SLUG.fullmatch(value):
        raise InvalidArgumentError(
            f"Invalid value for '{param}': use 1-64 characters from a-z, 0-9, '-' and '_', "
            "starting with a letter or digit.",
            param=param,
            code="invalid_value",
        )


def tenant_dict(tenant: Tenant) -> dict[str, Any]:
    """The API object of a tenant."""
    return {"id": tenant.id, "object": "tenant", "name": tenant.name, "created_at": tenant.created_at}


def key_dict(key: ApiKey) -> dict[str, Any]:
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


def _new_key(tenant_id: str, role: str, name: str, raw_key: str) -> ApiKey:
    return ApiKey(
        id=f"key_{secrets.token_hex(12)}",
        tenant_id=tenant_id,
        role=role,
        name=name,
        key_hash=hash_key(raw_key),
        redacted=redact(raw_key, head=8),
        created_at=int(time.time()),
        revoked_at=None,
    )


def _write_key_file(path: Path, raw_key: str) -> None:
    """Writes the key readable by the owner only (created 0600, and chmod in case it existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{raw_key}\n".encode())
    finally:
        os.close(fd)


class KeyStore:
    """Tenants and API keys in the gateway's database, with a TTL cache on the authentication path."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cache_seconds: float = 5.0) -> None:
        self._sessions = sessions
        self._cache_seconds = cache_seconds
        # key hash -> (principal, monotonic expiry). Only valid keys are cached, so unknown keys cannot
        # grow it; revocations elsewhere take effect once an entry expires.
        self._cache: dict[str, tuple[Principal, float]] = {}
        # Bumped by every revocation here, so a lookup that raced with it does not re-cache the key.
        self._generation = 0
        # key hash -> the database lookup in flight for it, which concurrent requests share.
        self._lookups: dict[str, asyncio.Future[Principal | None]] = {}

    async def authenticate(self, raw_key: str) -> Principal:
        """The principal of an active key, or AuthenticationError (invalid_api_key)."""
        key_hash = hash_key(raw_key)
        hit = self._cache.get(key_hash)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        # Requests with the same key share one lookup: when a busy key's entry expires, every request
        # in flight would otherwise query the database at once and all of them would stall together
        # (measured: a 100-170 ms stall of 32 concurrent requests every key_cache_seconds).
        lookup = self._lookups.get(key_hash)
        if lookup is None:
            lookup = asyncio.ensure_future(self._lookup(key_hash))
            self._lookups[key_hash] = lookup
            lookup.add_done_callback(lambda _: self._lookups.pop(key_hash, None))
        try:
            principal = await asyncio.shield(lookup)
        except DBAPIError as error:
            # A database outage is the server's problem: 503 with Retry-After, not 500 or 401.
            raise UnavailableError("The API key store is unavailable; please retry.") from error
        if principal is None:
            raise AuthenticationError(
                f"Incorrect API key provided: {redact(raw_key)}. "
                "You can find your API key in your tuneway admin.",
                code="invalid_api_key",
            )
        return principal

    async def _lookup(self, key_hash: str) -> Principal | None:
        """The key's principal from the database (cached), or None for an unknown or revoked key."""
        generation = self._generation
        async with self._sessions() as session:
            key = await repo.find_key_by_hash(session, key_hash)
        if key is None or key.revoked_at is not None:
            self._cache.pop(key_hash, None)
            return None
        principal = Principal(tenant_id=key.tenant_id, role=key.role, key_id=key.id)
        if self._cache_seconds > 0 and generation == self._generation:
            now = time.monotonic()
            if len(self._cache) >= _CACHE_SWEEP_SIZE:
                self._cache = {h: entry for h, entry in self._cache.items() if entry[1] > now}
            self._cache[key_hash] = (principal, now + self._cache_seconds)
        return principal

    async def bootstrap(self, bootstrap_key: str, key_file: Path) -> str | None:
        """Ensures tenant `default` and an admin key; returns a newly generated key (also in key_file)."""
        await self._ensure_tenant(DEFAULT_TENANT)
        if bootstrap_key and len(bootstrap_key) < 32:
            log.warning(
                "TUNEWAY_BOOTSTRAP_KEY is short; keys are hashed with plain sha256, use 32+ random chars"
            )
        # Unique constraints stop duplicates; a conflict means another process got there first, so the
        # whole decision is re-read and made again.
        for _ in range(3):
            try:
                return await self._bootstrap_once(bootstrap_key, key_file)
            except IntegrityError:
                log.info("another process bootstrapped concurrently; re-reading")
        return await self._bootstrap_once(bootstrap_key, key_file)

    async def _ensure_tenant(self, tenant_id: str) -> None:
        async with self._sessions() as session:
            if await repo.get_tenant(session, tenant_id) is not None:
                return
            session.add(Tenant(id=tenant_id, name=tenant_id, created_at=int(time.time())))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # created concurrently by another gateway

    async def _bootstrap_once(self, bootstrap_key: str, key_file: Path) -> str | None:
        async with self._sessions() as session, session.begin():
            # Serializes concurrent bootstraps on both PostgreSQL and SQLite (see lock_tenant).
            if not await repo.lock_tenant(session, DEFAULT_TENANT):
                raise RuntimeError(f"tenant {DEFAULT_TENANT!r} is missing (name taken by another tenant?)")
            if bootstrap_key:
                stored = await repo.find_key_by_hash(session, hash_key(bootstrap_key))
                if stored is None:
                    session.add(_new_key(DEFAULT_TENANT, "admin", "bootstrap", bootstrap_key))
                    return None
                if stored.revoked_at is not None:
                    # Revocation is the operator's decision; the environment does not undo it.
                    log.warning("TUNEWAY_BOOTSTRAP_KEY was revoked and stays revoked")
            if await repo.count_active_admin_keys(session):
                return None
            raw_key = generate_key()
            session.add(_new_key(DEFAULT_TENANT, "admin", "bootstrap (generated)", raw_key))
            await session.flush()
            # Written before the commit: if the commit fails the next start generates a fresh key and
            # file, whereas a committed key that never reached the file would lock the operator out.
            _write_key_file(key_file, raw_key)
            return raw_key

    async def create_tenant(self, name: str, tenant_id: str | None = None) -> dict[str, Any]:
        """Creates a tenant (its id is its name unless given); AlreadyExistsError for a taken name or id."""
        _check_slug(name, "name")
        if tenant_id is not None:
            _check_slug(tenant_id, "id")
        # The id appears in model names (ft:<base>:<tenant>:...), so the readable name is the default.
        tenant_id = tenant_id or name
        tenant = Tenant(id=tenant_id, name=name, created_at=int(time.time()))
        async with self._sessions() as session:
            if await repo.get_tenant_by_name(session, name) is not None:
                raise _tenant_exists(f"A tenant named '{name}' already exists.", "name")
            if await repo.get_tenant(session, tenant_id) is not None:
                raise _tenant_exists(f"A tenant with id '{tenant_id}' already exists.", "id")
            session.add(tenant)
            try:
                await session.commit()
            except IntegrityError as error:
                await session.rollback()
                raise _tenant_exists(
                    f"A tenant named '{name}' or with that id already exists.", "name"
                ) from error
        return tenant_dict(tenant)

    async def list_tenants(self) -> list[dict[str, Any]]:
        """Every tenant, oldest first."""
        async with self._sessions() as session:
            return [tenant_dict(t) for t in await repo.list_tenants(session)]

    async def get_tenant(self, tenant_id: str) -> dict[str, Any]:
        """One tenant, or NotFoundError."""
        async with self._sessions() as session:
            tenant = await repo.get_tenant(session, tenant_id)
        if tenant is None:
            raise _tenant_not_found(tenant_id)
        return tenant_dict(tenant)

    async def create_key(self, tenant_id: str, role: str = "member", name: str = "") -> dict[str, Any]:
        """Creates a key; the result carries the raw `key`, which is not stored and never shown again."""
        if role not in ROLES:
            raise InvalidArgumentError(
                f"Invalid value for 'role': {role!r}; expected one of {', '.join(ROLES)}.",
                param="role",
                code="invalid_value",
            )
        if len(name) > _MAX_KEY_NAME:
            raise InvalidArgumentError(
                f"Invalid value for 'name': at most {_MAX_KEY_NAME} characters.",
                param="name",
                code="invalid_value",
            )
        if role == "admin" and tenant_id != DEFAULT_TENANT:
            # Admin keys manage every tenant, so only the operators' own tenant may hold them.
            raise InvalidArgumentError(
                f"Invalid value for 'role': admin keys belong to the operator tenant '{DEFAULT_TENANT}'.",
                param="role",
                code="invalid_value",
            )
        raw_key = generate_key()
        key = _new_key(tenant_id, role, name, raw_key)
        async with self._sessions() as session:
            if await repo.get_tenant(session, tenant_id) is None:
                raise _tenant_not_found(tenant_id)
            session.add(key)
            await session.commit()
        return {**key_dict(key), "key": raw_key}

    async def list_keys(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Keys of one tenant, or of all; revoked ones included, raw keys and hashes never."""
        async with self._sessions() as session:
            if tenant_id is not None and await repo.get_tenant(session, tenant_id) is None:
                raise _tenant_not_found(tenant_id)
            return [key_dict(k) for k in await repo.list_keys(session, tenant_id)]

    async def revoke_key(self, key_id: str) -> dict[str, Any]:
        """Revokes a key (idempotent) and evicts it from this store's cache; NotFoundError if unknown."""
        async with self._sessions() as session:
            key = await repo.get_key(session, key_id)
            if key is None:
                raise NotFoundError(f"No API key with id '{key_id}'.", param="key_id", code="key_not_found")
            await repo.revoke_key(session, key, int(time.time()))
            await session.commit()
        self._generation += 1
        self._cache.pop(key.key_hash, None)
        return key_dict(key)


def _tenant_exists(message: str, param: str) -> AlreadyExistsError:
    return AlreadyExistsError(message, param=param, code="tenant_exists")


def _tenant_not_found(tenant_id: str) -> NotFoundError:
    return NotFoundError(f"No tenant with id '{tenant_id}'.", param="tenant_id", code="tenant_not_found")
