"""`x-request-id` on every response: the caller's sane id kept, anything else replaced, a chat completion's
id when none came; the same id in the log context of the request."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tuneway.core.logging import request_id_var
from tuneway.gateway.analytics.outbox import Outbox
from tuneway.gateway.app import create_app
from tuneway.gateway.request_ids import RequestIdMiddleware

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)
GENERATED = re.compile(r"req_[0-9a-f]{32}")
CHAT = {"model": "base-model", "messages": [{"role": "user", "content": "hi"}]}


async def test_json_and_error_responses_carry_a_fresh_id_each(gateway: Gateway) -> None:
    client = gateway.app_client
    responses = [
        await client.get("/healthz"),  # JSON
        await client.get("/v1/files"),  # 401, no key
        await client.get("/no-such-path"),  # 404
        await client.delete("/v1/chat/completions"),  # 405
        # 413 from the body limit, before any route.
        await client.post("/v1/chat/completions", content=b"x" * (gateway.settings.max_body_bytes + 1)),
    ]
    assert [r.status_code for r in responses] == [200, 401, 404, 405, 413]
    ids = [r.headers.get("x-request-id", "") for r in responses]
    assert all(GENERATED.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


async def test_a_sane_incoming_id_is_kept(gateway: Gateway) -> None:
    for sent in ("trace-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "req_abc:1/2+3=4@x.y", "x" * 128):
        response = await gateway.app_client.get("/healthz", headers={"x-request-id": sent})
        assert response.headers["x-request-id"] == sent
    # Also on errors, and on a chat completion (which then keeps its own completion id for feedback).
    response = await gateway.app_client.post(
        "/v1/chat/completions",
        json=CHAT,
        headers={**gateway.auth(gateway.acme_key), "x-request-id": "mine-1"},
    )
    assert response.status_code == 503
    assert response.headers["x-request-id"] == "mine-1"


@pytest.mark.parametrize(
    "sent",
    [b"x" * 129, b"two words", b"<script>alert(1)</script>", b"caf\xc3\xa9", b"", b"a\tb"],
    ids=["too-long", "space", "markup", "non-ascii", "empty", "tab"],
)
async def test_a_malformed_incoming_id_is_replaced(gateway: Gateway, sent: bytes) -> None:
    response = await gateway.app_client.get("/healthz", headers=[(b"x-request-id", sent)])
    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_two_incoming_ids_are_replaced(gateway: Gateway) -> None:
    response = await gateway.app_client.get(
        "/healthz", headers=[(b"x-request-id", b"a"), (b"x-request-id", b"b")]
    )
    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_a_chat_completion_without_one_is_identified_by_its_completion_id(
    start_gateway: Any,
) -> None:
    async with start_gateway(inference_connect_seconds=0.2) as gateway:
        response = await gateway.app_client.post(
            "/v1/chat/completions", json=CHAT, headers=gateway.auth(gateway.acme_key)
        )
        assert response.status_code == 503, response.text
        request_id = response.headers["x-request-id"]
        acme = (await gateway.services.authenticator.authenticate(gateway.acme_key)).tenant_id
        assert gateway.services.completion_ids.belongs_to(request_id, acme)
        outbox_file = gateway.settings.outbox_file()
    # The id the caller got is the one its completion's analytics event (and feedback) is keyed by.
    outbox = Outbox(outbox_file, 100)
    stored = await outbox.oldest(10)
    outbox.close()
    # (The outbox may hold it twice when the gateway stops mid-publish; NATS drops the repeat by its id.)
    assert stored and {item.event.msg_id for item in stored} == {request_id}


async def test_the_id_is_the_log_context_of_the_request() -> None:
    seen: list[str | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(request_id_var.get())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(RequestIdMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        kept = await client.get("/", headers={"x-request-id": "trace-7"})
        replaced = await client.get("/", headers={"x-request-id": "no good"})
    assert seen == ["trace-7", replaced.headers["x-request-id"]]
    assert kept.headers["x-request-id"] == "trace-7"


async def test_an_unexpected_error_carries_the_id(gateway_settings: Any) -> None:
    # Starlette answers an unhandled exception from outside every middleware: a route that fails.
    app = create_app(gateway_settings())

    async def fails() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/fails", fails)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        kept = await client.get("/fails", headers={"x-request-id": "trace-500"})
        generated = await client.get("/fails")
    assert (kept.status_code, kept.json()["error"]["type"]) == (500, "server_error")
    assert kept.headers["x-request-id"] == "trace-500"
    assert GENERATED.fullmatch(generated.headers["x-request-id"])
