"""The route around the generation: documented in the OpenAPI document, counted against the key's rate
limits as chat is, and identified by a tenant-bound `resp_` id (which is also its x-request-id)."""

from __future__ import annotations

from typing import Any

import pytest

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.gateway.analytics.outbox import Outbox

from ..conftest import ADMIN_KEY, Gateway

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


async def test_the_route_documents_its_json_its_events_and_its_errors(gateway: Gateway) -> None:
    document: dict[str, Any] = (await gateway.app_client.get("/openapi.json")).json()
    responses = document["paths"]["/v1/responses"]["post"]["responses"]
    content = responses["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ResponseObject"}
    events = content["text/event-stream"]["itemSchema"]
    assert events["properties"]["data"]["contentSchema"] == {
        "$ref": "#/components/schemas/ResponseStreamEvent"
    }
    assert "response.completed" in events["description"] and "[DONE]" not in events["description"]
    for status in ("400", "401", "404", "413", "429", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == ENVELOPE, status
    schemas = document["components"]["schemas"]
    assert schemas["ResponseObject"]["properties"]["object"]["const"] == "response"
    # `input` and a message's `content` take a string or a list, as OpenAI's do.
    request = schemas["ResponseRequest"]["properties"]
    assert [option.get("type") for option in request["input"]["anyOf"]] == ["string", "array"]
    # The chat route's stream still ends with [DONE].
    chat = document["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert "[DONE]" in chat["text/event-stream"]["itemSchema"]["description"]


async def test_responses_count_against_the_keys_rate_limit_and_carry_their_id(gateway: Gateway) -> None:
    listed = await gateway.app_client.get("/admin/keys", headers=ADMIN)
    key_id = next(k["id"] for k in listed.json()["data"] if k["redacted"].endswith(gateway.acme_key[-4:]))
    limited = await gateway.app_client.post(
        f"/admin/keys/{key_id}", headers=ADMIN, json={"rate_limits": {"requests_per_minute": 1}}
    )
    assert limited.status_code == 200, limited.text
    body = {"model": "tuneway-tiny", "input": "hi"}
    headers = gateway.auth(gateway.acme_key)
    first, second = [
        await gateway.app_client.post("/v1/responses", headers=headers, json=body) for _ in range(2)
    ]
    # No inference behind this gateway: the admitted request is a 503, the next one a 429.
    assert first.status_code == 503 and first.headers["x-ratelimit-remaining-requests"] == "0"
    assert second.status_code == 429 and second.json()["error"]["code"] == "rate_limit_exceeded"
    response_id = first.headers["x-request-id"]
    assert response_id.startswith("resp_")
    principal = await gateway.services.authenticator.authenticate(gateway.acme_key)
    assert gateway.services.completion_ids.belongs_to(response_id, principal.tenant_id)


async def test_a_response_leaves_its_analytics_event_as_a_chat_does(start_gateway: Any) -> None:
    body = {
        "model": "base-model",
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Where is my parcel?"}]}],
        "user": "u-1",
        "metadata": {"channel": "web", "conversation_id": "c1"},
    }
    # NATS is down: the event waits in the outbox, where this test reads it.
    async with start_gateway(inference_connect_seconds=0.2) as gateway:
        response = await gateway.app_client.post(
            "/v1/responses", json=body, headers=gateway.auth(gateway.acme_key)
        )
        assert response.status_code == 503, response.text
        outbox_file = gateway.settings.outbox_file()
    outbox = Outbox(outbox_file, 100)
    [stored] = await outbox.oldest(10)
    outbox.close()
    event = epb.CompletionEvent.FromString(stored.event.data)
    assert (event.endpoint, event.kind, event.model, event.base_model) == (
        "responses",
        "base",
        "base-model",
        "base-model",
    )
    assert event.request_id == response.headers["x-request-id"] and event.request_id.startswith("resp_")
    assert (event.user, event.channel, event.conversation_id) == ("u-1", "web", "c1")
    assert event.last_user_message == "Where is my parcel?"
    assert (event.status, event.http_status) == ("error", 503)
