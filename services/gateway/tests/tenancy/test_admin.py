"""Administration of tenants and API keys over real SQLite and PostgreSQL databases."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tuneway.core.db import session_factory
from tuneway.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from tuneway.gateway.tenancy.admin import TenancyAdmin
from tuneway.gateway.tenancy.responses import created_key_object, key_object, tenant_object
from tuneway.gateway.tenancy.tables import ApiKey


async def test_tenants_and_keys(admin: TenancyAdmin, engine: AsyncEngine) -> None:
    acme = tenant_object(await admin.create_tenant("acme"))
    assert acme["id"] == "acme" and acme["object"] == "tenant" and acme["name"] == "acme"
    globex = await admin.create_tenant("globex", tenant_id="globex")
    assert globex.id == "globex"
    assert [t.name for t in await admin.list_tenants()] == ["acme", "globex"]
    assert tenant_object(await admin.get_tenant(acme["id"])) == acme
    with pytest.raises(NotFoundError):
        await admin.get_tenant("nope")

    for name, tenant_id in (("acme", None), ("other", "globex")):
        with pytest.raises(AlreadyExistsError) as exists:
            await admin.create_tenant(name, tenant_id)
        assert exists.value.code == "tenant_exists"
    for bad in ("", "Acme", "-acme", "a:b", "a b", "a" * 65):
        with pytest.raises(InvalidArgumentError) as invalid:
            await admin.create_tenant(bad)
        assert invalid.value.param == "name"
    with pytest.raises(InvalidArgumentError) as invalid:
        await admin.create_tenant("fine", tenant_id="Bad:Id")
    assert invalid.value.param == "id"
    assert await admin.create_tenant("a" * 64)

    with pytest.raises(InvalidArgumentError) as invalid:
        await admin.create_key(acme["id"], role="owner")
    assert invalid.value.param == "role"
    with pytest.raises(NotFoundError):
        await admin.create_key("tenant_missing")

    with pytest.raises(InvalidArgumentError) as invalid:
        await admin.create_key(globex.id, role="admin")  # admin keys manage every tenant
    assert invalid.value.param == "role"
    member = created_key_object(*await admin.create_key(acme["id"], name="web"))
    await admin.create_tenant("default")
    operator = created_key_object(*await admin.create_key("default", role="admin"))
    assert member["object"] == "api_key" and member["role"] == "member" and member["name"] == "web"
    assert member["redacted"] == f"{member['key'][:8]}…{member['key'][-4:]}"
    assert [k.id for k in await admin.list_keys(acme["id"])] == [member["id"]]
    assert {member["id"], operator["id"]} <= {k.id for k in await admin.list_keys()}
    with pytest.raises(NotFoundError):
        await admin.list_keys("tenant_missing")

    listed = [key_object(k) for k in await admin.list_keys()]
    for raw in (member["key"], operator["key"]):
        assert raw not in repr(listed) and hashlib.sha256(raw.encode()).hexdigest() not in repr(listed)
    assert all("key" not in k and "key_hash" not in k for k in listed)

    async with session_factory(engine)() as session:
        stored = (await session.scalars(select(ApiKey).where(ApiKey.id == member["id"]))).one()
    assert stored.key_hash != member["key"]
    assert stored.key_hash == hashlib.sha256(member["key"].encode()).hexdigest()
