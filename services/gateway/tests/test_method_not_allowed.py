"""A known path with a method it does not serve: 405 in OpenAI's envelope, with the methods it does serve
in `Allow` (RFC 9110 requires it; clients and proxies read it to know what to send instead)."""

from __future__ import annotations

from typing import Any

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)


async def test_a_wrong_method_is_405_with_allow_in_the_envelope(gateway: Gateway) -> None:
    response = await gateway.app_client.delete("/v1/chat/completions", headers=gateway.auth(gateway.acme_key))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {
        "error": {
            "message": "Method Not Allowed",
            "type": "invalid_request_error",
            "param": None,
            "code": "method_not_allowed",
        }
    }


async def test_allow_lists_every_method_of_the_path(gateway: Gateway) -> None:
    # /v1/assistants/{name} is four routes on one path; Starlette names only the first one's methods.
    response = await gateway.app_client.put("/v1/assistants/helper", headers=gateway.auth(gateway.acme_key))
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= allowed and "PUT" not in allowed
