"""The OpenAI SDK's batches against the stack `make run` starts: a JSONL file of chat (or embedding)
requests run by the batch worker, with OpenAI's output and error files; cancel; a worker killed
mid-batch resumes without running a line twice."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import openai
import pytest

from tests.conftest import RunningStack, Tenant, make_tenant

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
CHAT = "/v1/chat/completions"
FINAL = ("completed", "failed", "cancelled", "expired")


def _chat_line(custom_id: str, max_tokens: int = 4, **body: Any) -> str:
    request = {
        "model": BASE,
        "messages": [{"role": "user", "content": f"Say something about {custom_id}."}],
        "max_tokens": max_tokens,
        "temperature": 0,
        **body,
    }
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": CHAT, "body": request})


def _upload(client: openai.OpenAI, lines: list[str]) -> str:
    data = ("\n".join(lines) + "\n").encode()
    return client.files.create(file=("requests.jsonl", data), purpose="batch").id


def _wait(
    client: openai.OpenAI, batch_id: str, done: Any = lambda b: b.status in FINAL, timeout: float = 240
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.batches.retrieve(batch_id)
        if done(batch):
            return batch
        time.sleep(0.3)
    raise AssertionError(f"batch {batch_id} is still {batch.status}: {batch.request_counts}")


def _lines(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines()]


def test_a_chat_batch_with_bad_lines_completes_with_openais_files(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    lines = [
        _chat_line("one"),
        "this is not json",
        _chat_line("two"),
        json.dumps({"custom_id": "no-messages", "method": "POST", "url": CHAT, "body": {"model": BASE}}),
        json.dumps({"custom_id": "wrong-url", "method": "POST", "url": "/v1/embeddings", "body": {}}),
        _chat_line("three", stream=True),
        _chat_line("four"),
    ]
    input_file_id = _upload(client, lines)
    created = client.batches.create(input_file_id=input_file_id, endpoint=CHAT, completion_window="24h")
    assert created.status == "validating"
    batch = _wait(client, created.id)
    assert batch.status == "completed", batch
    assert batch.request_counts is not None
    assert batch.request_counts.model_dump() == {"total": 7, "completed": 3, "failed": 4}
    assert batch.in_progress_at and batch.finalizing_at and batch.completed_at
    assert batch.created_at <= batch.in_progress_at <= batch.finalizing_at <= batch.completed_at
    assert batch.model == BASE
    # The lines no endpoint could take are in `errors` with their line numbers.
    assert batch.errors is not None
    assert [(e.line, e.param) for e in batch.errors.data or []] == [(2, None), (5, "url")]

    outputs = _lines(client, batch.output_file_id)
    assert [o["custom_id"] for o in outputs] == ["one", "two", "four"]
    for output in outputs:
        assert set(output) == {"id", "custom_id", "response", "error"}
        assert output["id"].startswith("batch_req_") and output["error"] is None
        response = output["response"]
        assert set(response) == {"status_code", "request_id", "body"} and response["status_code"] == 200
        body = response["body"]
        assert (
            body["object"] == "chat.completion"
            and body["model"] == BASE
            and body["id"] == response["request_id"]
        )
        assert (
            body["usage"]["completion_tokens"] <= 4 and body["choices"][0]["message"]["role"] == "assistant"
        )
    assert batch.usage is not None
    assert batch.usage.input_tokens == sum(o["response"]["body"]["usage"]["prompt_tokens"] for o in outputs)
    assert batch.usage.output_tokens == sum(
        o["response"]["body"]["usage"]["completion_tokens"] for o in outputs
    )

    errors = {e["custom_id"]: e for e in _lines(client, batch.error_file_id)}
    assert list(errors) == [None, "no-messages", "wrong-url", "three"]
    assert errors[None]["response"] is None and errors[None]["error"]["code"] == "invalid_json_line"
    assert errors["wrong-url"]["response"] is None and "url" in errors["wrong-url"]["error"]["message"]
    # A body the endpoint refuses is answered as the endpoint answers it: a 400 naming the field.
    for custom_id, param in (("no-messages", "messages"), ("three", "stream")):
        response = errors[custom_id]["response"]
        assert errors[custom_id]["error"] is None and response["status_code"] == 400
        assert response["body"]["error"]["param"] == param

    output_file = client.files.retrieve(batch.output_file_id)
    assert output_file.purpose == "batch_output" and output_file.filename == f"{batch.id}_output.jsonl"
    other = stack.client(make_tenant(stack, "batch-outsider").key)
    with pytest.raises(openai.NotFoundError):
        other.files.content(batch.output_file_id)
    with pytest.raises(openai.NotFoundError):
        other.batches.retrieve(batch.id)


def test_an_embeddings_batch(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    lines = [
        json.dumps(
            {
                "custom_id": f"e{i}",
                "method": "POST",
                "url": "/v1/embeddings",
                "body": {"model": "all-MiniLM-L6-v2", "input": text},
            }
        )
        for i, text in enumerate(["vacation days", ["hotel limit", "parcel"]])
    ]
    created = client.batches.create(
        input_file_id=_upload(client, lines), endpoint="/v1/embeddings", completion_window="24h"
    )
    batch = _wait(client, created.id)
    assert batch.status == "completed" and batch.error_file_id is None
    outputs = _lines(client, batch.output_file_id)
    assert [len(o["response"]["body"]["data"]) for o in outputs] == [1, 2]
    assert all(len(d["embedding"]) == 384 for o in outputs for d in o["response"]["body"]["data"])


def test_cancel_stops_the_batch_with_the_results_so_far(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    lines = [_chat_line(f"c{i}", max_tokens=24) for i in range(40)]
    created = client.batches.create(
        input_file_id=_upload(client, lines), endpoint=CHAT, completion_window="24h"
    )
    _wait(client, created.id, lambda b: b.request_counts is not None and b.request_counts.completed >= 2)
    cancelling = client.batches.cancel(created.id)
    assert cancelling.status in ("cancelling", "cancelled")
    batch = _wait(client, created.id)
    assert batch.status == "cancelled" and batch.cancelled_at and batch.cancelling_at
    assert batch.request_counts is not None
    assert 2 <= batch.request_counts.completed < 40 and batch.request_counts.failed == 0
    outputs = _lines(client, batch.output_file_id)
    assert len(outputs) == batch.request_counts.completed
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(created.id)


def test_a_worker_killed_mid_batch_resumes_without_duplicates(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    lines = [_chat_line(f"k{i}", max_tokens=16) for i in range(24)]
    created = client.batches.create(
        input_file_id=_upload(client, lines), endpoint=CHAT, completion_window="24h"
    )
    _wait(client, created.id, lambda b: b.request_counts is not None and b.request_counts.completed >= 3)
    pid = int((stack.data_dir / "run" / "batch-worker.pid").read_text())
    os.killpg(pid, signal.SIGKILL)  # no hand-back: the launcher restarts it, JetStream redelivers
    batch = _wait(client, created.id)
    assert batch.status == "completed"
    assert batch.request_counts is not None and batch.request_counts.model_dump() == {
        "total": 24,
        "completed": 24,
        "failed": 0,
    }
    outputs = _lines(client, batch.output_file_id)
    assert sorted(o["custom_id"] for o in outputs) == sorted(f"k{i}" for i in range(24))
    new_pid = int((stack.data_dir / "run" / "batch-worker.pid").read_text())
    assert new_pid != pid


def test_a_stopped_worker_hands_its_batch_back(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    lines = [_chat_line(f"s{i}", max_tokens=16) for i in range(24)]
    created = client.batches.create(
        input_file_id=_upload(client, lines), endpoint=CHAT, completion_window="24h"
    )
    _wait(client, created.id, lambda b: b.request_counts is not None and b.request_counts.completed >= 3)
    pid = int((stack.data_dir / "run" / "batch-worker.pid").read_text())
    os.killpg(pid, signal.SIGTERM)  # finishes its lines in flight, hands the batch back (nak)
    batch = _wait(client, created.id)
    assert batch.status == "completed"
    assert batch.request_counts is not None and batch.request_counts.completed == 24
    outputs = _lines(client, batch.output_file_id)
    assert sorted(o["custom_id"] for o in outputs) == sorted(f"s{i}" for i in range(24))
    log = (stack.data_dir / "logs" / "batch-worker.log").read_text()
    handed_back = [json.loads(line) for line in log.splitlines() if "batch handed back" in line]
    assert [entry["batch"] for entry in handed_back] == [created.id]
