"""gzip for large JSON responses to clients that accept it; small ones and clients that do not ask get
them as they are. (Event streams are never compressed or held back: tests/test_chat_e2e.py streams.)"""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import orjson

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)


async def _many_tenants(gateway: Gateway) -> None:
    """Enough tenants that /admin/tenants is several kilobytes of JSON."""
    for n in range(80):
        await gateway.services.tenancy.create_tenant(f"tenant-with-a-longish-name-{n:03}")


async def _raw_get(gateway: Gateway, path: str, accept_encoding: str) -> tuple[httpx.Response, bytes]:
    """The response's bytes as sent (httpx would otherwise decode them)."""
    request = gateway.app_client.build_request(
        "GET",
        path,
        headers={**gateway.auth(gateway.settings.bootstrap_key), "Accept-Encoding": accept_encoding},
    )
    response = await gateway.app_client.send(request, stream=True)
    return response, b"".join([chunk async for chunk in response.aiter_raw()])


async def test_a_large_json_response_is_gzipped_when_asked(gateway: Gateway) -> None:
    await _many_tenants(gateway)
    plain, plain_bytes = await _raw_get(gateway, "/admin/tenants", "identity")
    zipped, zipped_bytes = await _raw_get(gateway, "/admin/tenants", "gzip, deflate")
    assert len(plain_bytes) > gateway.settings.gzip_minimum_bytes
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert int(zipped.headers["content-length"]) == len(zipped_bytes) < len(plain_bytes) / 4
    assert orjson.loads(gzip.decompress(zipped_bytes)) == orjson.loads(plain_bytes)
    assert len(orjson.loads(plain_bytes)["data"]) >= 80


async def test_a_small_response_is_sent_as_it_is(gateway: Gateway) -> None:
    response, body = await _raw_get(gateway, "/healthz", "gzip")
    assert "content-encoding" not in response.headers
    assert orjson.loads(body) == {"status": "ok"}


async def test_zero_turns_it_off(start_gateway: Any) -> None:
    async with start_gateway(gzip_minimum_bytes=0) as gateway:
        await _many_tenants(gateway)
        response, body = await _raw_get(gateway, "/admin/tenants", "gzip")
    assert "content-encoding" not in response.headers
    assert len(orjson.loads(body)["data"]) >= 80
