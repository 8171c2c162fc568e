"""Chat completions leave a CompletionEvent without waiting on NATS: with NATS down the reply comes and the
event waits in the outbox; with NATS up it reaches the EVENTS stream under its Nats-Msg-Id."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import nats
import pytest
from google.protobuf.message import DecodeError

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.gateway.analytics.batches import BATCH_SUBJECT
from tuneway.gateway.analytics.outbox import Outbox

pytestmark = pytest.mark.integration


def _chat(user: str) -> dict[str, Any]:
    return {
        "model": "base-model",
        "messages": [{"role": "user", "content": "x" * 2500}],
        "user": user,
        "metadata": {"channel": "web", "conversation_id": "c1", "language": "fr"},
    }


def _check(event: epb.CompletionEvent, user: str) -> None:
    # No inference service answers: the failure is recorded with its code and status.
    assert (event.status, event.error_code, event.http_status) == ("error", "service_unavailable", 503)
    assert (event.endpoint, event.kind, event.model, event.base_model) == (
        "chat.completions",
        "base",
        "base-model",
        "base-model",
    )
    assert (event.tenant_id, event.user, event.channel, event.conversation_id, event.language) == (
        "acme",
        user,
        "web",
        "c1",
        "fr",
    )
    assert event.last_user_message == "x" * 2000 and event.api_key_id
    assert event.request_id.startswith("chatcmpl-") and event.latency_ms > 0 and event.created_at_ms > 0


async def test_with_nats_down_a_chat_answers_and_its_event_waits_on_disk(start_gateway: Any) -> None:
    async with start_gateway(inference_connect_seconds=0.2) as gateway:
        response = await gateway.app_client.post(
            "/v1/chat/completions", json=_chat("u-down"), headers=gateway.auth(gateway.acme_key)
        )
        assert response.status_code == 503, response.text
        assert not gateway.services.completion_ids.belongs_to("chatcmpl-x", "acme")
        outbox_file = gateway.settings.outbox_file()
    outbox = Outbox(outbox_file, 100)
    [stored] = await outbox.oldest(10)
    outbox.close()
    event = epb.CompletionEvent.FromString(stored.event.data)
    assert (stored.event.subject, stored.event.msg_id) == ("events.completions", event.request_id)
    _check(event, "u-down")


async def test_with_nats_up_the_event_reaches_the_stream(start_gateway: Any, nats_url: str) -> None:
    user = f"u-{uuid.uuid4().hex}"
    async with start_gateway(nats_url=nats_url, inference_connect_seconds=0.2) as gateway:
        response = await gateway.app_client.post(
            "/v1/chat/completions", json=_chat(user), headers=gateway.auth(gateway.acme_key)
        )
        assert response.status_code == 503, response.text
        nc = await nats.connect(nats_url)
        try:
            sub = await nc.jetstream().subscribe(BATCH_SUBJECT, ordered_consumer=True)
            found: list[tuple[str, epb.CompletionEvent]] = []
            async with asyncio.timeout(30):
                while not found:
                    msg = await sub.next_msg(timeout=30)
                    try:
                        batched = epb.EventBatch.FromString(msg.data).events
                        events = [
                            (item.msg_id, epb.CompletionEvent.FromString(item.data))
                            for item in batched
                            if item.subject == "events.completions"
                        ]
                    except DecodeError:
                        continue  # other tests on the session's NATS publish undecodable messages on purpose
                    found.extend((msg_id, event) for msg_id, event in events if event.user == user)
        finally:
            await nc.close()
    [(msg_id, event)] = found
    assert msg_id == event.request_id
    _check(event, user)
