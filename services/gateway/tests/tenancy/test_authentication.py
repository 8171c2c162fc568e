"""Authentication of API keys: the cache, revocation, expiry, shared lookups and a database outage."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tuneway.core.db import create_engine, session_factory
from tuneway.core.errors import InvalidArgumentError, NotFoundError, UnavailableError
from tuneway.gateway.errors import AuthenticationError
from tuneway.gateway.tenancy.admin import TenancyAdmin
from tuneway.gateway.tenancy.authentication import Authenticator
from tuneway.gateway.tenancy.keys import Principal


async def test_authenticate_and_revoke(auth: Authenticator, admin: TenancyAdmin, engine: AsyncEngine) -> None:
    tenant = await admin.create_tenant("acme")
    created, raw = await admin.create_key(tenant.id, "member", "ci")
    assert await auth.authenticate(raw) == Principal(tenant.id, "member", created.id)

    with pytest.raises(AuthenticationError) as caught:
        await auth.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B"))
    assert caught.value.code == "invalid_api_key"
    assert "Incorrect API key provided: sk-tw-…" in caught.value.message
    assert raw[6:-4] not in caught.value.message

    # A second gateway that has cached the key keeps accepting it until its cache entry expires.
    other = Authenticator(session_factory(engine), cache_seconds=0.3)
    assert (await other.authenticate(raw)).key_id == created.id

    revoked = await admin.revoke_key(created.id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError):
        await auth.authenticate(raw)  # same gateway: evicted at once despite its 60 s cache
    with pytest.raises(AuthenticationError):
        await Authenticator(session_factory(engine)).authenticate(raw)  # fresh gateway: nothing cached
    await asyncio.sleep(0.35)
    with pytest.raises(AuthenticationError):
        await other.authenticate(raw)  # the other gateway: within its TTL
    assert (await admin.revoke_key(created.id)).revoked_at == revoked.revoked_at
    with pytest.raises(NotFoundError):
        await admin.revoke_key("key_missing")


async def test_concurrent_requests_with_one_key_share_one_lookup(
    auth: Authenticator, admin: TenancyAdmin, engine: AsyncEngine
) -> None:
    tenant = await admin.create_tenant("acme")
    _, raw = await admin.create_key(tenant.id, "member", "ci")
    lookups: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "api_keys" in statement:
            lookups.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        # A busy key whose cache entry is missing (or just expired): one query, not one per request.
        principals = await asyncio.gather(*(auth.authenticate(raw) for _ in range(32)))
        assert {p.tenant_id for p in principals} == {tenant.id} and len(lookups) == 1
        bad = raw[:-1] + ("A" if raw[-1] != "A" else "B")
        errors = await asyncio.gather(*(auth.authenticate(bad) for _ in range(8)), return_exceptions=True)
        assert all(isinstance(e, AuthenticationError) for e in errors) and len(lookups) == 2
        assert len({id(e) for e in errors}) == 8, "each request gets an error of its own"
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_unreachable_database_is_unavailable_not_unauthenticated(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'db.sqlite'}")
    try:
        with pytest.raises(UnavailableError):
            await Authenticator(session_factory(engine)).authenticate(
                "sk-tw-test-0123456789abcdef0123456789abcdef"
            )
    finally:
        await engine.dispose()


async def test_an_expired_key_is_refused_at_its_expiry_even_from_a_long_cache(
    auth: Authenticator, admin: TenancyAdmin
) -> None:
    tenant = await admin.create_tenant("acme")
    with pytest.raises(InvalidArgumentError) as refused:
        await admin.create_key(tenant.id, "member", "ci", expires_at=int(time.time()) - 1)
    assert refused.value.param == "expires_at"
    lasting, lasting_raw = await admin.create_key(
        tenant.id, "member", "ci", expires_at=int(time.time()) + 3600
    )
    expiring, raw = await admin.create_key(tenant.id, "member", "ci", expires_at=int(time.time()) + 2)
    assert expiring.expires_at is not None
    # `auth` caches keys for 60 s: the entry of a key that expires sooner ends with the key.
    assert (await auth.authenticate(raw)).key_id == expiring.id
    await asyncio.sleep(max(0.0, expiring.expires_at - time.time()) + 0.05)
    with pytest.raises(AuthenticationError) as caught:
        await auth.authenticate(raw)
    assert caught.value.code == "invalid_api_key"
    assert (await auth.authenticate(lasting_raw)).key_id == lasting.id
