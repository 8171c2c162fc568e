"""KeyStore and the gateway's migrations over real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import hashlib
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError, UnavailableError
from tuneway.gateway.app import MIGRATIONS
from tuneway.gateway.errors import AuthenticationError
from tuneway.gateway.files import tables as _files  # noqa: F401  (registers the files table on Base)
from tuneway.gateway.settings import GatewaySettings
from tuneway.gateway.tenancy.authentication import KeyStore, Principal
from tuneway.gateway.tenancy.tables import ApiKey, Base

BOOTSTRAP_KEY = "sk-tw-test-bootstrap-0123456789abcdef0123456789abcdef"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of each kind."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine over the migrated database."""
    await upgrade_database(db_url, MIGRATIONS)
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> KeyStore:
    return KeyStore(session_factory(engine), cache_seconds=60)


async def test_migrations_apply_twice(db_url: str) -> None:
    await upgrade_database(db_url, MIGRATIONS)
    await upgrade_database(db_url, MIGRATIONS)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = (
                await connection.execute(text("SELECT version_num FROM gateway_alembic_version"))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert {"tenants", "api_keys", "files", "gateway_alembic_version"} <= tables
    assert version == "0002"


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"version_table": "gateway_alembic_version"}),
                Base.metadata,
            )
        )
    assert diff == []


def test_concurrent_migrations_from_separate_processes(db_url: str) -> None:
    # Separate processes, as replicas are: Alembic's context is process-global, so threads would not do.
    script = (
        "import asyncio, sys, pathlib; from tuneway.core.db import upgrade_database; "
        "asyncio.run(upgrade_database(sys.argv[1], pathlib.Path(sys.argv[2])))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, db_url, str(MIGRATIONS)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr


async def test_bootstrap_generates_one_admin_key(
    store: KeyStore, engine: AsyncEngine, tmp_path: Path
) -> None:
    key_file = tmp_path / "nested" / "admin_key"
    generated = await store.bootstrap("", key_file)
    assert generated is not None and generated.startswith("sk-tw-") and len(generated) > 40
    assert key_file.read_text().strip() == generated
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    principal = await store.authenticate(generated)
    assert (principal.tenant_id, principal.role) == ("default", "admin")

    assert await store.bootstrap("", key_file) is None
    assert await KeyStore(session_factory(engine)).bootstrap("", key_file) is None
    assert key_file.read_text().strip() == generated
    keys = await store.list_keys()
    assert len(keys) == 1 and keys[0]["role"] == "admin"
    assert (await store.get_tenant("default"))["name"] == "default"


async def test_bootstrap_key_from_environment(
    store: KeyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEWAY_BOOTSTRAP_KEY", BOOTSTRAP_KEY)
    monkeypatch.setenv("TUNEWAY_DATA_DIR", str(tmp_path))
    settings = GatewaySettings()
    assert settings.bootstrap_key == BOOTSTRAP_KEY

    assert await store.bootstrap(settings.bootstrap_key, settings.admin_key_file()) is None
    assert not settings.admin_key_file().exists()
    principal = await store.authenticate(BOOTSTRAP_KEY)
    assert (principal.tenant_id, principal.role) == ("default", "admin")
    assert await store.bootstrap(settings.bootstrap_key, settings.admin_key_file()) is None
    keys = await store.list_keys("default")
    assert len(keys) == 1 and keys[0]["redacted"] == "sk-tw-te…cdef"


async def test_revoked_bootstrap_key_stays_revoked_and_a_new_key_is_generated(
    store: KeyStore, engine: AsyncEngine, tmp_path: Path
) -> None:
    await store.bootstrap(BOOTSTRAP_KEY, tmp_path / "admin_key")
    await store.revoke_key((await store.list_keys())[0]["id"])
    # With no usable admin key left, a restart generates one, so the operator is never locked out.
    generated = await KeyStore(session_factory(engine)).bootstrap(BOOTSTRAP_KEY, tmp_path / "admin_key")
    assert generated is not None
    with pytest.raises(AuthenticationError):
        await store.authenticate(BOOTSTRAP_KEY)
    assert (await store.authenticate(generated)).role == "admin"


async def test_authenticate_and_revoke(store: KeyStore, engine: AsyncEngine, tmp_path: Path) -> None:
    await store.bootstrap("", tmp_path / "admin_key")
    tenant = await store.create_tenant("acme")
    created = await store.create_key(tenant["id"], "member", "ci")
    raw = created["key"]
    assert await store.authenticate(raw) == Principal(tenant["id"], "member", created["id"])

    with pytest.raises(AuthenticationError) as caught:
        await store.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B"))
    assert caught.value.code == "invalid_api_key"
    assert "Incorrect API key provided: sk-tw-…" in caught.value.message
    assert raw[6:-4] not in caught.value.message

    # A second gateway that has cached the key keeps accepting it until its cache entry expires.
    other = KeyStore(session_factory(engine), cache_seconds=0.3)
    assert (await other.authenticate(raw)).key_id == created["id"]

    revoked = await store.revoke_key(created["id"])
    assert revoked["revoked_at"] is not None
    with pytest.raises(AuthenticationError):
        await store.authenticate(raw)  # same store: evicted at once despite its 60 s cache
    with pytest.raises(AuthenticationError):
        await KeyStore(session_factory(engine)).authenticate(raw)  # fresh store: nothing cached
    await asyncio.sleep(0.35)
    with pytest.raises(AuthenticationError):
        await other.authenticate(raw)  # the other gateway: within its TTL
    assert (await store.revoke_key(created["id"]))["revoked_at"] == revoked["revoked_at"]
    with pytest.raises(NotFoundError):
        await store.revoke_key("key_missing")


async def test_concurrent_requests_with_one_key_share_one_lookup(
    store: KeyStore, engine: AsyncEngine, tmp_path: Path
) -> None:
    await store.bootstrap("", tmp_path / "admin_key")
    tenant = await store.create_tenant("acme")
    raw = (await store.create_key(tenant["id"], "member", "ci"))["key"]
    lookups: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "api_keys" in statement:
            lookups.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        # A busy key whose cache entry is missing (or just expired): one query, not one per request.
        principals = await asyncio.gather(*(store.authenticate(raw) for _ in range(32)))
        assert {p.tenant_id for p in principals} == {tenant["id"]} and len(lookups) == 1
        bad = raw[:-1] + ("A" if raw[-1] != "A" else "B")
        errors = await asyncio.gather(*(store.authenticate(bad) for _ in range(8)), return_exceptions=True)
        assert all(isinstance(e, AuthenticationError) for e in errors) and len(lookups) == 2
        assert len({id(e) for e in errors}) == 8, "each request gets an error of its own"
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_tenants_and_keys(store: KeyStore, engine: AsyncEngine) -> None:
    acme = await store.create_tenant("acme")
    assert acme["id"] == "acme" and acme["object"] == "tenant" and acme["name"] == "acme"
    globex = await store.create_tenant("globex", tenant_id="globex")
    assert globex["id"] == "globex"
    assert [t["name"] for t in await store.list_tenants()] == ["acme", "globex"]
    assert await store.get_tenant(acme["id"]) == acme
    with pytest.raises(NotFoundError):
        await store.get_tenant("nope")

    for name, tenant_id in (("acme", None), ("other", "globex")):
        with pytest.raises(AlreadyExistsError) as exists:
            await store.create_tenant(name, tenant_id)
        assert exists.value.code == "tenant_exists"
    for bad in ("", "Acme", "-acme", "a:b", "a b", "a" * 65):
        with pytest.raises(InvalidArgumentError) as invalid:
            await store.create_tenant(bad)
        assert invalid.value.param == "name"
    with pytest.raises(InvalidArgumentError) as invalid:
        await store.create_tenant("fine", tenant_id="Bad:Id")
    assert invalid.value.param == "id"
    assert await store.create_tenant("a" * 64)

    with pytest.raises(InvalidArgumentError) as invalid:
        await store.create_key(acme["id"], role="owner")
    assert invalid.value.param == "role"
    with pytest.raises(NotFoundError):
        await store.create_key("tenant_missing")

    with pytest.raises(InvalidArgumentError) as invalid:
        await store.create_key(globex["id"], role="admin")  # admin keys manage every tenant
    assert invalid.value.param == "role"
    member = await store.create_key(acme["id"], name="web")
    await store.create_tenant("default")
    admin = await store.create_key("default", role="admin")
    assert member["object"] == "api_key" and member["role"] == "member" and member["name"] == "web"
    assert member["redacted"] == f"{member['key'][:8]}…{member['key'][-4:]}"
    assert [k["id"] for k in await store.list_keys(acme["id"])] == [member["id"]]
    assert {member["id"], admin["id"]} <= {k["id"] for k in await store.list_keys()}
    with pytest.raises(NotFoundError):
        await store.list_keys("tenant_missing")

    listed = repr(await store.list_keys())
    for raw in (member["key"], admin["key"]):
        assert raw not in listed and hashlib.sha256(raw.encode()).hexdigest() not in listed
    assert all("key" not in k and "key_hash" not in k for k in await store.list_keys())

    async with session_factory(engine)() as session:
        stored = (await session.scalars(select(ApiKey).where(ApiKey.id == member["id"]))).one()
    assert stored.key_hash != member["key"]
    assert stored.key_hash == hashlib.sha256(member["key"].encode()).hexdigest()


async def test_concurrent_bootstrap_generates_one_key(db_url: str, tmp_path: Path) -> None:
    await upgrade_database(db_url, MIGRATIONS)
    engines = [create_engine(db_url) for _ in range(3)]
    try:
        stores = [KeyStore(session_factory(e)) for e in engines]
        results = await asyncio.gather(*(s.bootstrap("", tmp_path / f"key{i}") for i, s in enumerate(stores)))
        assert sum(r is not None for r in results) == 1
        admins = [k for k in await stores[0].list_keys() if k["role"] == "admin"]
        assert len(admins) == 1
        # Replicas sharing one TUNEWAY_BOOTSTRAP_KEY store it once.
        fresh = [KeyStore(session_factory(e)) for e in engines]
        assert (
            await asyncio.gather(*(s.bootstrap(BOOTSTRAP_KEY, tmp_path / "k") for s in fresh)) == [None] * 3
        )
        assert len([k for k in await stores[0].list_keys() if k["name"] == "bootstrap"]) == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_unreachable_database_is_unavailable_not_unauthenticated(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'dir' / 'db.sqlite'}")
    try:
        with pytest.raises(UnavailableError):
            await KeyStore(session_factory(engine)).authenticate(BOOTSTRAP_KEY)
    finally:
        await engine.dispose()
