"""No NUL byte from a URL reaches a store: a path holding one names nothing (404; a PUT's is an invalid
name, 400), a query value holding one is a 400 naming its parameter, on PostgreSQL (which refuses NUL in
text) as on SQLite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tuneway.gateway.nul_bytes import _param_with_nul

pytestmark = pytest.mark.integration

ADMIN = "sk-tw-gateway-tests-0123456789abcdef0123456789abcdef"


async def test_nul_ids_are_404s_and_nul_query_values_400s_on_postgresql(
    start_gateway: Callable[..., Any], postgres_url: str
) -> None:
    # Issue 12 §6: GET /v1/model_aliases/%00 was a 500 on PostgreSQL (the alias went into the query).
    async with start_gateway(database_url=postgres_url) as gateway:
        member = gateway.auth(gateway.acme_key)
        for method, path, headers in (
            ("GET", "/v1/model_aliases/%00", member),
            ("DELETE", "/v1/model_aliases/a%00b", member),
            ("GET", "/v1/files/%00/content", member),
            ("GET", "/admin/tenants/%00", gateway.auth(ADMIN)),
            ("POST", "/admin/keys/key_%00", gateway.auth(ADMIN)),
        ):
            response = await gateway.app_client.request(method, path, headers=headers, json={})
            assert response.status_code == 404, (path, response.text)
            assert response.json()["error"]["code"] == "not_found"
        for path in ("/v1/model_aliases/%00", "/v1/analytics/query_types/a%00b"):
            response = await gateway.app_client.put(path, headers=member, json={})
            assert response.status_code == 400, (path, response.text)
        listed = await gateway.app_client.get("/v1/files?limit=2&after=file-%00", headers=member)
        assert listed.status_code == 400, listed.text
        assert listed.json()["error"]["param"] == "after"
        # The same requests without the NUL reach the routes as before.
        assert (await gateway.app_client.get("/v1/model_aliases/x", headers=member)).status_code == 404
        assert (await gateway.app_client.get("/v1/files?limit=2", headers=member)).status_code == 200


def test_only_a_decoded_nul_counts() -> None:
    assert _param_with_nul(b"after=%2500") is None  # the text "%00", escaped
    assert _param_with_nul(b"a=1&b=x%00y") == "b"
    assert _param_with_nul(b"") is None
