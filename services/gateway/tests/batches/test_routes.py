"""/v1/batches through the whole app and the OpenAI SDK: create, retrieve, list, cancel, their 400s, tenant
isolation, and a batch accepted while NATS is down reaching the BATCHES stream once NATS is back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import nats
import openai
import pytest

from tuneway.api.events.v1.events_pb2 import BatchRequested
from tuneway.core import nats as tnats
from tuneway.core.testing.processes import NatsServer

# The `gateway` and `start_gateway` fixtures come from the parent directory's conftest.
Gateway = Any

LINE = (
    b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", '
    b'"body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}\n'
)


async def _input_file(client: openai.AsyncOpenAI) -> str:
    return (await client.files.create(file=("requests.jsonl", LINE), purpose="batch")).id


async def test_create_retrieve_list_and_cancel_with_the_sdk(gateway: Gateway) -> None:
    client = gateway.sdk(gateway.acme_key)
    file_id = await _input_file(client)
    created = await client.batches.create(
        input_file_id=file_id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"job": "nightly"},
    )
    assert created.id.startswith("batch_") and created.object == "batch"
    assert (created.status, created.input_file_id, created.endpoint) == (
        "validating",
        file_id,
        "/v1/chat/completions",
    )
    assert created.expires_at == created.created_at + 24 * 3600
    assert created.metadata == {"job": "nightly"}
    assert created.request_counts is not None and created.request_counts.total == 0
    assert (created.output_file_id, created.error_file_id, created.errors) == (None, None, None)
    assert (await client.batches.retrieve(created.id)).model_dump() == created.model_dump()

    later = [
        await client.batches.create(input_file_id=file_id, endpoint="/v1/embeddings", completion_window="24h")
        for _ in range(2)
    ]
    first = await client.batches.list(limit=2)
    assert [b.id for b in first.data] == [later[1].id, later[0].id] and first.has_more
    rest = await client.batches.list(limit=2, after=first.data[-1].id)
    assert [b.id for b in rest.data] == [created.id] and not rest.has_more

    cancelling = await client.batches.cancel(created.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    assert (await client.batches.cancel(created.id)).status == "cancelling"


async def test_another_tenant_sees_no_batch(gateway: Gateway) -> None:
    acme, globex = gateway.sdk(gateway.acme_key), gateway.sdk(gateway.globex_key)
    batch = await acme.batches.create(
        input_file_id=await _input_file(acme), endpoint="/v1/chat/completions", completion_window="24h"
    )
    with pytest.raises(openai.NotFoundError):
        await globex.batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        await globex.batches.cancel(batch.id)
    assert (await globex.batches.list()).data == []
    # Nor may another tenant's file be a batch's input.
    with pytest.raises(openai.BadRequestError) as refused:
        await globex.batches.create(
            input_file_id=batch.input_file_id, endpoint="/v1/chat/completions", completion_window="24h"
        )
    assert refused.value.body["param"] == "input_file_id"  # type: ignore[index]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"completion_window": "1h"}, "completion_window"),
        ({"endpoint": "/v1/responses"}, "endpoint"),
        ({"input_file_id": "file-missing"}, "input_file_id"),
        ({"input_file_id": "file-\x00"}, "input_file_id"),
        ({"output_expires_after": {"anchor": "created_at", "seconds": 3600}}, "output_expires_after"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
    ],
)
async def test_bad_requests_are_400s_naming_the_field(
    gateway: Gateway, change: dict[str, Any], param: str
) -> None:
    client = gateway.sdk(gateway.acme_key)
    body = {
        "input_file_id": await _input_file(client),
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
    }
    response = await gateway.app_client.post(
        "/v1/batches", json={**body, **change}, headers=gateway.auth(gateway.acme_key)
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


async def test_an_input_file_of_another_purpose_is_refused(gateway: Gateway) -> None:
    client = gateway.sdk(gateway.acme_key)
    other = await client.files.create(file=("notes.jsonl", LINE), purpose="assistants")
    with pytest.raises(openai.BadRequestError) as refused:
        await client.batches.create(
            input_file_id=other.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
    assert refused.value.body["param"] == "input_file_id" and "purpose" in refused.value.message  # type: ignore[index]


async def test_finished_or_unknown_batches_cannot_be_cancelled(gateway: Gateway) -> None:
    client = gateway.sdk(gateway.acme_key)
    with pytest.raises(openai.NotFoundError):
        await client.batches.cancel("batch_missing")
    with pytest.raises(openai.NotFoundError):
        await client.batches.retrieve("batch_missing")


async def test_a_batch_created_while_nats_is_down_is_queued_when_it_returns(
    start_gateway: Callable[..., AbstractAsyncContextManager[Gateway]], nats_server: NatsServer
) -> None:
    nats_server.stop()
    try:
        async with start_gateway(nats_url=nats_server.url, batch_dispatch_retry_seconds=0.2) as gateway:
            client = gateway.sdk(gateway.acme_key)
            batch = await client.batches.create(
                input_file_id=await _input_file(client),
                endpoint="/v1/chat/completions",
                completion_window="24h",
            )
            assert batch.status == "validating"
            nats_server.start()
            requested = await _wait_for_request(nats_server.url, batch.id)
            assert (requested.batch_id, requested.tenant_id) == (batch.id, "acme")
    finally:
        nats_server.start()  # a no-op when it runs: later tests share the session's server


async def _wait_for_request(url: str, batch_id: str) -> BatchRequested:
    """The stream's message for `batch_id` (its Nats-Msg-Id), once the dispatcher has published it."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for _ in range(200):
            try:
                await js.stream_info(tnats.BATCHES_STREAM.name or "")
                message = await js.get_last_msg(tnats.BATCHES_STREAM.name or "", "batches.requested")
                if message.headers and message.headers.get("Nats-Msg-Id") == batch_id and message.data:
                    return BatchRequested.FromString(message.data)
            except Exception:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{batch_id} never reached the BATCHES stream")
    finally:
        await nc.close()


@pytest.mark.parametrize("odd", ["%ED%A0%80", "%C2%B9", "%00", "x" * 300])
async def test_odd_ids_are_404s_or_400s_never_500s(gateway: Gateway, odd: str) -> None:
    headers = gateway.auth(gateway.acme_key)
    for method, path in (("GET", f"/v1/batches/{odd}"), ("POST", f"/v1/batches/{odd}/cancel")):
        response = await gateway.app_client.request(method, path, headers=headers)
        assert response.status_code == 404, (path, response.text)
    listed = await gateway.app_client.get(f"/v1/batches?after={odd}", headers=headers)
    assert listed.status_code == 400 and listed.json()["error"]["param"] == "after"
