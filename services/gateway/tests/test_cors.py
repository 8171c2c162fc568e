"""CORS: off by default; with GATEWAY_CORS_ORIGINS, preflights from those origins allow the methods and
headers OpenAI's SDKs send, responses expose x-request-id and the rate limit headers, other origins get
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tuneway.gateway.settings import GatewaySettings

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)
APP = "https://app.example.com"
# What the OpenAI SDK for JavaScript asks to send from a browser.
SDK_HEADERS = (
    "authorization,content-type,openai-beta,openai-organization,openai-project,x-stainless-arch,"
    "x-stainless-lang,x-stainless-os,x-stainless-package-version,x-stainless-retry-count,"
    "x-stainless-runtime,x-stainless-runtime-version,x-stainless-timeout"
)


def _preflight(origin: str, headers: str = SDK_HEADERS, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


async def test_off_by_default(gateway: Gateway) -> None:
    client = gateway.app_client
    preflight = await client.options("/v1/chat/completions", headers=_preflight(APP))
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in preflight.headers
    response = await client.get("/healthz", headers={"Origin": APP})
    assert "access-control-allow-origin" not in response.headers


async def test_a_preflight_from_an_allowed_origin_allows_the_sdks_headers(start_gateway: Any) -> None:
    async with start_gateway(cors_origins=[APP, "http://localhost:5173"]) as gateway:
        preflight = await gateway.app_client.options("/v1/chat/completions", headers=_preflight(APP))
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == APP
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert set(SDK_HEADERS.split(",")) <= allowed
    assert {"GET", "POST", "DELETE"} <= {
        m.strip() for m in preflight.headers["access-control-allow-methods"].split(",")
    }
    assert "x-request-id" in preflight.headers


@pytest.mark.parametrize(
    "origin,headers",
    [("https://evil.example.com", SDK_HEADERS), (APP, "authorization,x-not-an-sdk-header")],
    ids=["other-origin", "other-header"],
)
async def test_a_preflight_outside_the_policy_is_refused(
    start_gateway: Any, origin: str, headers: str
) -> None:
    async with start_gateway(cors_origins=[APP]) as gateway:
        preflight = await gateway.app_client.options(
            "/v1/chat/completions", headers=_preflight(origin, headers)
        )
    assert preflight.status_code == 400
    if origin != APP:
        assert "access-control-allow-origin" not in preflight.headers
    assert "x-not-an-sdk-header" not in preflight.headers.get("access-control-allow-headers", "")


async def test_responses_to_an_allowed_origin_expose_the_request_id_and_rate_limits(
    start_gateway: Any,
) -> None:
    async with start_gateway(cors_origins=[APP]) as gateway:
        client = gateway.app_client
        ok = await client.get("/v1/files", headers={**gateway.auth(gateway.acme_key), "Origin": APP})
        # Errors too: a page must be able to read why its call failed.
        unauthorized = await client.get("/v1/files", headers={"Origin": APP})
        other = await client.get("/v1/files", headers={"Origin": "https://evil.example.com"})
    for response in (ok, unauthorized):
        assert response.headers["access-control-allow-origin"] == APP
        exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
        assert {"x-request-id", "x-ratelimit-remaining-requests", "retry-after"} <= exposed
    assert (ok.status_code, unauthorized.status_code) == (200, 401)
    assert "access-control-allow-origin" not in other.headers


def test_origins_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_CORS_ORIGINS", raising=False)
    assert GatewaySettings().cors_origins == []
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example, http://localhost:5173/")
    assert GatewaySettings().cors_origins == ["https://a.example", "http://localhost:5173"]
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", '["https://b.example"]')
    assert GatewaySettings().cors_origins == ["https://b.example"]
