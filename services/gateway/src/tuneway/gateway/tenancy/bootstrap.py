"""The bootstrap at start-up: tenant `default` and an admin key, so an operator is never locked out."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.gateway.tenancy import repository as repo
from tuneway.gateway.tenancy.keys import generate_key, hash_key, new_api_key
from tuneway.gateway.tenancy.tables import DEFAULT_TENANT, Tenant

log = logging.getLogger(__name__)


async def bootstrap(
    sessions: async_sessionmaker[AsyncSession], bootstrap_key: str, key_file: Path
) -> str | None:
    """Ensures tenant `default` and an admin key; returns a newly generated key (also in key_file)."""
    await _ensure_tenant(sessions, DEFAULT_TENANT)
    if bootstrap_key and len(bootstrap_key) < 32:
        log.warning("TUNEWAY_BOOTSTRAP_KEY is short; keys are hashed with plain sha256, use 32+ random chars")
    # Unique constraints stop duplicates; a conflict means another process got there first, so the
    # whole decision is re-read and made again.
    for _ in range(3):
        try:
            return await _bootstrap_once(sessions, bootstrap_key, key_file)
        except IntegrityError:
            log.info("another process bootstrapped concurrently; re-reading")
    return await _bootstrap_once(sessions, bootstrap_key, key_file)


async def _ensure_tenant(sessions: async_sessionmaker[AsyncSession], tenant_id: str) -> None:
    async with sessions() as session:
        if await repo.get_tenant(session, tenant_id) is not None:
            return
        session.add(Tenant(id=tenant_id, name=tenant_id, created_at=int(time.time())))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()  # created concurrently by another gateway


async def _bootstrap_once(
    sessions: async_sessionmaker[AsyncSession], bootstrap_key: str, key_file: Path
) -> str | None:
    async with sessions() as session, session.begin():
        # Serializes concurrent bootstraps on both PostgreSQL and SQLite (see lock_tenant).
        if not await repo.lock_tenant(session, DEFAULT_TENANT):
            raise RuntimeError(f"tenant {DEFAULT_TENANT!r} is missing (name taken by another tenant?)")
        if bootstrap_key:
            stored = await repo.find_key_by_hash(session, hash_key(bootstrap_key))
            if stored is None:
                session.add(new_api_key(DEFAULT_TENANT, "admin", "bootstrap", bootstrap_key))
                return None
            if stored.revoked_at is not None:
                # Revocation is the operator's decision; the environment does not undo it.
                log.warning("TUNEWAY_BOOTSTRAP_KEY was revoked and stays revoked")
        if await repo.count_active_admin_keys(session):
            return None
        raw_key = generate_key()
        session.add(new_api_key(DEFAULT_TENANT, "admin", "bootstrap (generated)", raw_key))
        await session.flush()
        # Written before the commit: if the commit fails the next start generates a fresh key and
        # file, whereas a committed key that never reached the file would lock the operator out.
        _write_key_file(key_file, raw_key)
        return raw_key


def _write_key_file(path: Path, raw_key: str) -> None:
    """Writes the key readable by the owner only (created 0600, and chmod in case it existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{raw_key}\n".encode())
    finally:
        os.close(fd)
