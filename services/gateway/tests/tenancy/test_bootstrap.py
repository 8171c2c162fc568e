"""The start-up bootstrap of tenant `default` and an admin key, over real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.gateway.app import MIGRATIONS
from tuneway.gateway.errors import AuthenticationError
from tuneway.gateway.settings import GatewaySettings
from tuneway.gateway.tenancy.admin import TenancyAdmin
from tuneway.gateway.tenancy.authentication import Authenticator
from tuneway.gateway.tenancy.bootstrap import bootstrap

Sessions = async_sessionmaker[AsyncSession]
BOOTSTRAP_KEY = "sk-tw-test-bootstrap-0123456789abcdef0123456789abcdef"


async def test_bootstrap_generates_one_admin_key(
    sessions: Sessions, auth: Authenticator, admin: TenancyAdmin, engine: AsyncEngine, tmp_path: Path
) -> None:
    key_file = tmp_path / "nested" / "admin_key"
    generated = await bootstrap(sessions, "", key_file)
    assert generated is not None and generated.startswith("sk-tw-") and len(generated) > 40
    assert key_file.read_text().strip() == generated
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    principal = await auth.authenticate(generated)
    assert (principal.tenant_id, principal.role) == ("default", "admin")

    assert await bootstrap(sessions, "", key_file) is None
    assert await bootstrap(session_factory(engine), "", key_file) is None
    assert key_file.read_text().strip() == generated
    keys = await admin.list_keys()
    assert len(keys) == 1 and keys[0].role == "admin"
    assert (await admin.get_tenant("default")).name == "default"


async def test_bootstrap_key_from_environment(
    sessions: Sessions,
    auth: Authenticator,
    admin: TenancyAdmin,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUNEWAY_BOOTSTRAP_KEY", BOOTSTRAP_KEY)
    monkeypatch.setenv("TUNEWAY_DATA_DIR", str(tmp_path))
    settings = GatewaySettings()
    assert settings.bootstrap_key == BOOTSTRAP_KEY

    assert await bootstrap(sessions, settings.bootstrap_key, settings.admin_key_file()) is None
    assert not settings.admin_key_file().exists()
    principal = await auth.authenticate(BOOTSTRAP_KEY)
    assert (principal.tenant_id, principal.role) == ("default", "admin")
    assert await bootstrap(sessions, settings.bootstrap_key, settings.admin_key_file()) is None
    keys = await admin.list_keys("default")
    assert len(keys) == 1 and keys[0].redacted == "sk-tw-te…cdef"


async def test_revoked_bootstrap_key_stays_revoked_and_a_new_key_is_generated(
    sessions: Sessions, auth: Authenticator, admin: TenancyAdmin, engine: AsyncEngine, tmp_path: Path
) -> None:
    await bootstrap(sessions, BOOTSTRAP_KEY, tmp_path / "admin_key")
    await admin.revoke_key((await admin.list_keys())[0].id)
    # With no usable admin key left, a restart generates one, so the operator is never locked out.
    generated = await bootstrap(session_factory(engine), BOOTSTRAP_KEY, tmp_path / "admin_key")
    assert generated is not None
    with pytest.raises(AuthenticationError):
        await auth.authenticate(BOOTSTRAP_KEY)
    assert (await auth.authenticate(generated)).role == "admin"


async def test_concurrent_bootstrap_generates_one_key(db_url: str, tmp_path: Path) -> None:
    await upgrade_database(db_url, MIGRATIONS)
    engines = [create_engine(db_url) for _ in range(3)]
    try:
        replicas = [session_factory(e) for e in engines]
        results = await asyncio.gather(
            *(bootstrap(s, "", tmp_path / f"key{i}") for i, s in enumerate(replicas))
        )
        assert sum(r is not None for r in results) == 1
        admin = TenancyAdmin(replicas[0], Authenticator(replicas[0]))
        assert len([k for k in await admin.list_keys() if k.role == "admin"]) == 1
        # Replicas sharing one TUNEWAY_BOOTSTRAP_KEY store it once.
        assert (
            await asyncio.gather(*(bootstrap(s, BOOTSTRAP_KEY, tmp_path / "k") for s in replicas))
            == [None] * 3
        )
        assert len([k for k in await admin.list_keys() if k.name == "bootstrap"]) == 1
    finally:
        for engine in engines:
            await engine.dispose()
