"""The gateway's request counter: route templates, bounded methods, and the tenant label only when on."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tuneway.core.settings import ServiceSettings
from tuneway.gateway.middleware import TENANT_LABEL_LIMIT

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)
StartGateway = Callable[..., AbstractAsyncContextManager[Gateway]]


def _count(**labels: str) -> float:
    return REGISTRY.get_sample_value("tuneway_gateway_requests_total", labels) or 0.0


async def _tenant_id(gateway: Gateway, key: str) -> str:
    return (await gateway.services.authenticator.authenticate(key)).tenant_id


def test_the_tenant_label_is_off_unless_the_shared_switch_turns_it_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TUNEWAY_METRICS_TENANT_LABEL", raising=False)
    assert ServiceSettings().metrics_tenant_label is False
    monkeypatch.setenv("TUNEWAY_METRICS_TENANT_LABEL", "true")
    assert ServiceSettings().metrics_tenant_label is True


async def test_requests_are_counted_by_route_template_without_a_tenant_by_default(gateway: Gateway) -> None:
    labels = {"route": "/v1/files/{file_id}", "method": "GET", "status": "404"}
    before = _count(**labels)
    for file_id in ("file-abc", "file-def"):
        response = await gateway.app_client.get(
            f"/v1/files/{file_id}", headers=gateway.auth(gateway.acme_key)
        )
        assert response.status_code == 404
    assert _count(**labels) == before + 2
    # No series is named after the raw path, and none has a tenant.
    assert _count(route="/v1/files/file-abc", method="GET", status="404") == 0
    samples = [s for m in REGISTRY.collect() if m.name == "tuneway_gateway_requests" for s in m.samples]
    assert samples and all("tenant" not in sample.labels for sample in samples)


async def test_made_up_methods_and_paths_share_one_series(gateway: Gateway) -> None:
    labels = {"route": "unmatched", "method": "other", "status": "404"}
    before = _count(**labels)
    for method in ("BREW", "WHEN"):
        response = await gateway.app_client.request(method, f"/no-such-path/{method}")
        assert response.status_code == 404
    assert _count(**labels) == before + 2


async def test_the_switch_adds_the_authenticated_tenant_to_the_request_counter(
    start_gateway: StartGateway,
) -> None:
    async with start_gateway(metrics_tenant_label=True) as gateway:
        acme = await _tenant_id(gateway, gateway.acme_key)
        globex = await _tenant_id(gateway, gateway.globex_key)
        route = {"route": "/v1/files", "method": "GET", "status": "200"}
        before = {t: _count(**route, tenant=t) for t in (acme, globex)}
        await gateway.app_client.get("/v1/files", headers=gateway.auth(gateway.acme_key))
        await gateway.app_client.get("/v1/files", headers=gateway.auth(gateway.acme_key))
        await gateway.app_client.get("/v1/files", headers=gateway.auth(gateway.globex_key))
        assert _count(**route, tenant=acme) == before[acme] + 2
        assert _count(**route, tenant=globex) == before[globex] + 1
        # A request no key authenticated has no tenant.
        unauthenticated = {"route": "/v1/files", "method": "GET", "status": "401", "tenant": "none"}
        before_none = _count(**unauthenticated)
        assert (await gateway.app_client.get("/v1/files")).status_code == 401
        assert _count(**unauthenticated) == before_none + 1


async def test_the_tenant_label_is_bounded(start_gateway: StartGateway) -> None:
    async with start_gateway(metrics_tenant_label=True) as gateway:
        admin = gateway.services.tenancy
        keys = []
        # The two fixture tenants and "none" may take places too: enough new tenants to pass the limit.
        for index in range(TENANT_LABEL_LIMIT + 1):
            await admin.create_tenant(f"bounded-{index}")
            _, key = await admin.create_key(f"bounded-{index}", "member")
            keys.append(key)
        route = {"route": "/v1/files", "method": "GET", "status": "200"}
        before_other = _count(**route, tenant="other")
        for key in keys:
            assert (await gateway.app_client.get("/v1/files", headers=gateway.auth(key))).status_code == 200
        last = await _tenant_id(gateway, keys[-1])
        assert _count(**route, tenant=last) == 0
        assert _count(**route, tenant="other") >= before_other + 1
