"""A batch worker's runner over the gateway's real database and file store, for the outcomes that need
no generation: a file without requests fails the batch; a batch past its completion window expires
with every line in the error file; one cancelled before it started ends cancelled with no files."""

from __future__ import annotations

import json
from typing import Any

import openai

from tuneway.core.db import session_factory
from tuneway.gateway.analytics.completion_ids import CompletionIds
from tuneway.gateway.analytics.events import AnalyticsEvents
from tuneway.gateway.batch_worker.requests import Clients, LineRunner
from tuneway.gateway.batch_worker.runner import BatchRunner, StopRequest
from tuneway.gateway.files.generated import GeneratedFiles
from tuneway.gateway.files.store import FileStore

# The `gateway` fixture comes from the parent directory's conftest.
Gateway = Any
CHAT = "/v1/chat/completions"


def _runner(gateway: Gateway, clock: float | None = None) -> BatchRunner:
    services = gateway.services
    sessions = session_factory(services.db)
    clients = Clients(
        services.inference,
        services.prompts,
        services.retriever,
        AnalyticsEvents(None),
        CompletionIds(b"x" * 32),
        services.model_aliases,
    )
    files = GeneratedFiles(sessions, FileStore(gateway.settings.files_dir()))
    if clock is None:
        return BatchRunner(sessions, files, LineRunner(clients), 2)
    return BatchRunner(sessions, files, LineRunner(clients), 2, clock=lambda: clock)


async def _batch(client: openai.AsyncOpenAI, data: bytes) -> Any:
    file = await client.files.create(file=("requests.jsonl", data), purpose="batch")
    return await client.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")


def _line(custom_id: str) -> str:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body})


async def test_a_file_without_requests_fails_the_batch(gateway: Gateway) -> None:
    client = gateway.sdk(gateway.acme_key)
    created = await _batch(client, b"\n\n")
    assert await _runner(gateway).run(created.id, StopRequest())
    batch = await client.batches.retrieve(created.id)
    assert batch.status == "failed" and batch.failed_at is not None and batch.errors is not None
    assert [(e.code, e.line) for e in batch.errors.data or []] == [("empty_file", None)]


async def test_past_its_window_a_batch_expires_with_every_line_in_the_error_file(gateway: Gateway) -> None:
    client = gateway.sdk(gateway.acme_key)
    created = await _batch(client, "\n".join([_line("a"), "{", _line("b")]).encode())
    assert await _runner(gateway, clock=created.expires_at + 1).run(created.id, StopRequest())
    batch = await client.batches.retrieve(created.id)
    assert batch.status == "expired" and batch.expired_at == created.expires_at + 1
    assert batch.request_counts is not None
    assert batch.request_counts.model_dump() == {"total": 3, "completed": 0, "failed": 3}
    assert batch.output_file_id is None and batch.error_file_id is not None
    content = (await client.files.content(batch.error_file_id)).text
    errors = [json.loads(line) for line in content.splitlines()]
    assert [(e["custom_id"], e["error"]["code"]) for e in errors] == [
        ("a", "batch_expired"),
        (None, "invalid_json_line"),
        ("b", "batch_expired"),
    ]
    assert all(e["response"] is None and e["id"].startswith("batch_req_") for e in errors)
    error_file = await client.files.retrieve(batch.error_file_id)
    assert (error_file.purpose, error_file.filename) == ("batch_output", f"{batch.id}_error.jsonl")


async def test_a_batch_cancelled_before_it_started_ends_cancelled_without_files(gateway: Gateway) -> None:
    client = gateway.sdk(gateway.acme_key)
    created = await _batch(client, _line("a").encode())
    await client.batches.cancel(created.id)
    assert await _runner(gateway).run(created.id, StopRequest())
    batch = await client.batches.retrieve(created.id)
    assert batch.status == "cancelled" and batch.cancelled_at is not None
    assert (batch.output_file_id, batch.error_file_id) == (None, None)
