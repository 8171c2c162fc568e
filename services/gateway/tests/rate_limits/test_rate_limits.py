"""Per-minute request quotas of API keys and tenants, set through /admin and enforced on the generation
routes with OpenAI's 429 envelope and x-ratelimit headers; shared by replicas through Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import openai
import pytest

from tuneway.core.testing.processes import free_port
from tuneway.gateway.app import create_app
from tuneway.gateway.rate_limits.headers import duration
from tuneway.gateway.settings import GatewaySettings

from ..conftest import ADMIN_KEY, Gateway

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
REDIS_URL = "redis://127.0.0.1:6379/0"
EMBED = {"model": "all-MiniLM-L6-v2", "input": "hello"}
# Each test makes its requests within a second or two.
_TEST_SECONDS = 5


@pytest.fixture(autouse=True)
async def _clear_of_a_minute_boundary() -> None:
    """Waits out the end of a clock minute before a test starts.

    The in-process sliding-window counters keep one count per clock minute and weigh the previous
    minute's by the part of it still inside the window, rounded down: a request made just before the
    minute turns counts for nothing just after it. That approximation is the library's and fine for
    quotas, but not for the tests' exact counts, so no test straddles the turn. (Redis' windows start
    at a key's first request, so the tests that share Redis do not meet it.)
    """
    into_minute = time.time() % 60
    if into_minute > 60 - _TEST_SECONDS:
        await asyncio.sleep(60 - into_minute + 0.1)


async def _key_id(gateway: Gateway, raw_key: str) -> str:
    listed = await gateway.app_client.get("/admin/keys", headers=ADMIN)
    redacted = raw_key[-4:]
    return next(k["id"] for k in listed.json()["data"] if k["redacted"].endswith(redacted))


async def _limit(gateway: Gateway, path: str, **limits: int | None) -> httpx.Response:
    response = await gateway.app_client.post(path, headers=ADMIN, json={"rate_limits": limits})
    assert response.status_code == 200, response.text
    return response


async def _limit_key(gateway: Gateway, raw_key: str, **limits: int | None) -> httpx.Response:
    return await _limit(gateway, f"/admin/keys/{await _key_id(gateway, raw_key)}", **limits)


async def _embed(client: httpx.AsyncClient, key: str) -> httpx.Response:
    # No retriever behind these gateways: an admitted call is a 503, a refused one a 429.
    return await client.post("/v1/embeddings", headers={"Authorization": f"Bearer {key}"}, json=EMBED)


async def _chat(client: httpx.AsyncClient, key: str) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    return await client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json=body)


@pytest.mark.parametrize("call", [_embed, _chat], ids=["embeddings", "chat"])
async def test_a_keys_requests_per_minute_are_enforced_with_openais_headers_and_429(
    gateway: Gateway, call: Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]
) -> None:
    key_id = await _key_id(gateway, gateway.acme_key)
    updated = await _limit_key(gateway, gateway.acme_key, requests_per_minute=2)
    assert updated.json()["rate_limits"] == {"requests_per_minute": 2, "tokens_per_minute": None}

    first, second, third = [await call(gateway.app_client, gateway.acme_key) for _ in range(3)]
    assert first.status_code == second.status_code == 503
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    remaining = [r.headers["x-ratelimit-remaining-requests"] for r in (first, second)]
    assert remaining == ["1", "0"]
    assert third.status_code == 429
    error = third.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("requests", "rate_limit_exceeded", None)
    assert f"API key {key_id}" in error["message"] and "Limit 2" in error["message"]
    assert 1 <= int(third.headers["retry-after"]) <= 60
    assert third.headers["x-ratelimit-remaining-requests"] == "0"
    assert third.headers["x-ratelimit-reset-requests"].endswith("s")
    assert "x-ratelimit-limit-tokens" not in third.headers

    # Another tenant's key is not limited, and carries no limit headers.
    other = await call(gateway.app_client, gateway.globex_key)
    assert other.status_code == 503 and "x-ratelimit-limit-requests" not in other.headers


async def test_the_sdk_sees_a_rate_limit_error(gateway: Gateway) -> None:
    await _limit_key(gateway, gateway.acme_key, requests_per_minute=1)
    sdk = gateway.sdk(gateway.acme_key)
    with pytest.raises(openai.InternalServerError):  # 503: admitted, nothing behind the gateway
        await sdk.embeddings.create(model="all-MiniLM-L6-v2", input="hello")
    with pytest.raises(openai.RateLimitError) as refused:
        await sdk.embeddings.create(model="all-MiniLM-L6-v2", input="hello")
    assert refused.value.code == "rate_limit_exceeded"


async def test_a_tenants_quota_is_shared_by_its_keys(gateway: Gateway) -> None:
    created = await gateway.app_client.post("/admin/keys", headers=ADMIN, json={"tenant_id": "acme"})
    second_key = created.json()["key"]
    tenant = await _limit(gateway, "/admin/tenants/acme", requests_per_minute=3)
    assert tenant.json()["rate_limits"]["requests_per_minute"] == 3

    keys = (gateway.acme_key, second_key) * 2
    statuses = [(await _embed(gateway.app_client, key)).status_code for key in keys]
    assert statuses == [503, 503, 503, 429]
    refused = await _embed(gateway.app_client, gateway.acme_key)
    assert "tenant acme" in refused.json()["error"]["message"]

    # Removing the limit applies from the next request on this gateway.
    await _limit(gateway, "/admin/tenants/acme", requests_per_minute=None)
    lifted = await _embed(gateway.app_client, second_key)
    assert lifted.status_code == 503 and "x-ratelimit-limit-requests" not in lifted.headers


async def test_the_tighter_of_key_and_tenant_quota_is_in_the_headers(gateway: Gateway) -> None:
    await _limit(gateway, "/admin/tenants/acme", requests_per_minute=100)
    await _limit_key(gateway, gateway.acme_key, requests_per_minute=5)
    headers = (await _embed(gateway.app_client, gateway.acme_key)).headers
    assert (headers["x-ratelimit-limit-requests"], headers["x-ratelimit-remaining-requests"]) == ("5", "4")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"rate_limits": {"requests_per_minute": 0}}, "rate_limits.requests_per_minute"),
        ({"rate_limits": {"tokens_per_minute": "many"}}, "rate_limits.tokens_per_minute"),
        ({"rate_limits": {"requests_per_day": 5}}, "rate_limits.requests_per_day"),
        ({}, "rate_limits"),
    ],
)
async def test_bad_limits_are_400s_naming_the_field(
    gateway: Gateway, body: dict[str, object], param: str
) -> None:
    response = await gateway.app_client.post("/admin/tenants/acme", headers=ADMIN, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_limits_of_unknown_holders_are_404_and_members_cannot_set_them(gateway: Gateway) -> None:
    body = {"rate_limits": {"requests_per_minute": 1}}
    member = gateway.auth(gateway.acme_key)
    calls = [
        ("/admin/tenants/nobody", ADMIN),
        ("/admin/keys/key_nope", ADMIN),
        ("/admin/tenants/acme", member),
    ]
    statuses = [(await gateway.app_client.post(path, headers=h, json=body)).status_code for path, h in calls]
    assert statuses == [404, 404, 403]


@asynccontextmanager
async def _replica(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """Another gateway over the same database (its tenants exist already)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica", timeout=30) as client:
            yield client


async def test_replicas_sharing_redis_enforce_one_limit(
    start_gateway: Callable[..., AbstractAsyncContextManager[Gateway]],
) -> None:
    async with start_gateway(redis_url=REDIS_URL) as gateway, _replica(gateway.settings) as replica:
        await _limit_key(gateway, gateway.acme_key, requests_per_minute=3)
        clients = [gateway.app_client, replica, gateway.app_client, replica]
        statuses = [(await _embed(client, gateway.acme_key)).status_code for client in clients]
    # Each replica alone would have admitted its second call.
    assert statuses == [503, 503, 503, 429]


async def test_an_unreachable_redis_lets_requests_through(
    start_gateway: Callable[..., AbstractAsyncContextManager[Gateway]],
) -> None:
    async with start_gateway(redis_url=f"redis://127.0.0.1:{free_port()}/0") as gateway:
        await _limit_key(gateway, gateway.acme_key, requests_per_minute=1)
        statuses = [(await _embed(gateway.app_client, gateway.acme_key)).status_code for _ in range(3)]
    assert statuses == [503, 503, 503]


def test_waits_are_written_as_openai_writes_them() -> None:
    assert [duration(s) for s in (0.006, 0.9994, 1, 1.5, 59.25, 60, 360, 61.5)] == [
        "6ms",
        "999ms",
        "1s",
        "1.5s",
        "59.25s",
        "1m0s",
        "6m0s",
        "1m1.5s",
    ]
