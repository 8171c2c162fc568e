"""A whole gateway app (create_app, its lifespan, SQLite) reached in-process over ASGI, and the gateway's
migrated database of each kind with the tenancy services over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tuneway.core.db import create_engine, session_factory, upgrade_database
from tuneway.core.testing.processes import free_port
from tuneway.gateway.app import MIGRATIONS, create_app
from tuneway.gateway.deps import Services
from tuneway.gateway.settings import GatewaySettings
from tuneway.gateway.tenancy.admin import TenancyAdmin
from tuneway.gateway.tenancy.authentication import Authenticator

ADMIN_KEY = "sk-tw-gateway-tests-0123456789abcdef0123456789abcdef"


@dataclass
class Gateway:
    """The running app, its services and keys of two member tenants."""

    app_client: httpx.AsyncClient
    services: Services
    settings: GatewaySettings
    acme_key: str
    globex_key: str

    def sdk(self, key: str) -> openai.AsyncOpenAI:
        """The OpenAI SDK over the in-process app."""
        return openai.AsyncOpenAI(
            base_url="http://gateway/v1", api_key=key, http_client=self.app_client, max_retries=0
        )

    def auth(self, key: str) -> dict[str, str]:
        """The Authorization header of `key`."""
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def gateway_settings(tmp_path: Path) -> Callable[..., GatewaySettings]:
    """Settings under tmp_path; services behind the gateway default to ports nothing listens on."""

    def make(**overrides: object) -> GatewaySettings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "bootstrap_key": ADMIN_KEY,
            "inference_target": f"127.0.0.1:{free_port()}",
            "trainer_target": f"127.0.0.1:{free_port()}",
            "analytics_target": f"127.0.0.1:{free_port()}",
            # No NATS there: events wait in the outbox under tmp_path (tests that want them pass a URL).
            "nats_url": f"nats://127.0.0.1:{free_port()}",
            "rpc_timeout_seconds": 2.0,
            # No metrics port (tests that want one pass a free port): 9106 may be taken on this machine.
            "metrics_port": 0,
            **overrides,
        }
        return GatewaySettings(**values)  # type: ignore[arg-type]

    return make


@asynccontextmanager
async def _running(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    """Runs create_app's lifespan and yields the app with tenants acme and globex."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        keys = []
        for name in ("acme", "globex"):
            await services.tenancy.create_tenant(name)
            _, raw_key = await services.tenancy.create_key(name, "member")
            keys.append(raw_key)
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=30) as client:
            yield Gateway(client, services, settings, keys[0], keys[1])


@pytest.fixture
def start_gateway(
    gateway_settings: Callable[..., GatewaySettings],
) -> Callable[..., AbstractAsyncContextManager[Gateway]]:
    """`async with start_gateway(**settings) as gateway:` runs a gateway with those settings."""
    return lambda **overrides: _running(gateway_settings(**overrides))


@pytest.fixture
async def gateway(
    start_gateway: Callable[..., AbstractAsyncContextManager[Gateway]],
) -> AsyncIterator[Gateway]:
    """The gateway with default settings (no trainer or inference behind it)."""
    async with start_gateway() as running:
        yield running


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
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions of the migrated database."""
    return session_factory(engine)


@pytest.fixture
def auth(sessions: async_sessionmaker[AsyncSession]) -> Authenticator:
    """An authenticator whose cache outlives any test, so eviction on revocation shows."""
    return Authenticator(sessions, cache_seconds=60)


@pytest.fixture
def admin(sessions: async_sessionmaker[AsyncSession], auth: Authenticator) -> TenancyAdmin:
    """Tenant and key administration that evicts revoked keys from `auth`."""
    return TenancyAdmin(sessions, auth)
