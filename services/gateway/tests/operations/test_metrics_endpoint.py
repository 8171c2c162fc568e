"""/metrics is served on the gateway's metrics port, not on the public API port (whose callers would see
every route's counters), unless GATEWAY_METRICS_ON_API_PORT asks for both."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from tuneway.core.testing.processes import free_port, port_open
from tuneway.gateway.settings import GatewaySettings

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)
StartGateway = Callable[..., AbstractAsyncContextManager[Gateway]]
COUNTER = 'tuneway_gateway_requests_total{method="GET",route="/healthz",status="200"}'


async def test_metrics_are_on_the_metrics_port_and_not_on_the_api_port(start_gateway: StartGateway) -> None:
    port = free_port()
    async with start_gateway(metrics_port=port) as gateway:
        assert (await gateway.app_client.get("/healthz")).status_code == 200
        on_api_port = await gateway.app_client.get("/metrics")
        async with httpx.AsyncClient() as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{port}/metrics")
    assert on_api_port.status_code == 404
    assert on_api_port.json()["error"]["code"] == "not_found"
    assert scraped.status_code == 200
    assert COUNTER in scraped.text
    # Stopping the gateway frees the port (a restarted gateway binds it again).
    assert not port_open("127.0.0.1", port)


async def test_the_api_port_serves_them_too_when_asked(start_gateway: StartGateway) -> None:
    async with start_gateway(metrics_on_api_port=True) as gateway:
        assert (await gateway.app_client.get("/healthz")).status_code == 200
        response = await gateway.app_client.get("/metrics")
    assert response.status_code == 200
    assert COUNTER in response.text


def test_the_default_is_a_port_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_METRICS_PORT", raising=False)
    monkeypatch.delenv("GATEWAY_METRICS_ON_API_PORT", raising=False)
    settings = GatewaySettings()
    assert settings.metrics_port not in (0, settings.port)
    assert settings.metrics_on_api_port is False
