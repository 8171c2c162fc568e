"""A whole gateway app (create_app, its lifespan, SQLite) reached in-process over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

from tuneway.core.testing.processes import free_port
from tuneway.gateway.app import create_app
from tuneway.gateway.deps import Services
from tuneway.gateway.settings import GatewaySettings

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
            "rpc_timeout_seconds": 2.0,
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
            await services.keys.create_tenant(name)
            keys.append((await services.keys.create_key(name, "member"))["key"])
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
