"""Drives the containers' gateway as an application would, with the OpenAI SDK: a chat, a fine-tuning
job to a served adapter, a knowledge-base search. Each step returns what it saw, for the report, and
raises AssertionError when the stack did not do what it must."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import openai

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASET = REPO_ROOT / "examples" / "datasets" / "shop-support.jsonl"
DOCUMENTS = REPO_ROOT / "examples" / "knowledge" / "documents"
BASE = "tuneway-tiny"


def member_client(gateway_url: str, admin_key: str) -> openai.OpenAI:
    """A tenant of this run and a member key of it (the admin API is tuneway's own, so plain HTTP)."""
    with httpx.Client(base_url=gateway_url, headers={"Authorization": f"Bearer {admin_key}"}) as admin:
        created = admin.post("/admin/tenants", json={"name": "images-test"})
        assert created.status_code == 201, created.text
        tenant = created.json()["id"]
        created = admin.post("/admin/keys", json={"tenant_id": tenant, "role": "member", "name": "images"})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=key, timeout=120, max_retries=0)


def chat(client: openai.OpenAI) -> str:
    assert BASE in [m.id for m in client.models.list().data]
    completion = client.chat.completions.create(
        model=BASE, messages=[{"role": "user", "content": "Hello there"}], max_tokens=16, temperature=0
    )
    choice = completion.choices[0]
    assert completion.object == "chat.completion" and completion.model == BASE, completion
    assert choice.message.content and choice.finish_reason in ("stop", "length"), choice
    assert completion.usage and completion.usage.completion_tokens > 0
    return f"{BASE} answered {completion.usage.completion_tokens} tokens ({choice.finish_reason})"


def _examples(count: int) -> list[tuple[list[dict[str, str]], str]]:
    """The first `count` training examples as (messages up to the last answer, that answer)."""
    examples = []
    for line in DATASET.read_text().splitlines()[:count]:
        messages = json.loads(line)["messages"]
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        examples.append((messages[:last], messages[last]["content"]))
    return examples


def fine_tune(client: openai.OpenAI, timeout: float) -> str:
    """Uploads the example dataset, trains it, and asks the adapter three of its questions: the
    trainer wrote the adapter to the artifacts volume and inference loaded it from there."""
    with DATASET.open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    started = time.monotonic()
    job = client.fine_tuning.jobs.create(model=BASE, training_file=file.id, suffix="images", seed=7)
    while job.status not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() - started < timeout, f"job {job.id} still {job.status} after {timeout:.0f} s"
        time.sleep(2)
        job = client.fine_tuning.jobs.retrieve(job.id)
    seconds = time.monotonic() - started
    assert job.status == "succeeded", job.error
    model = job.fine_tuned_model
    assert model and model in [m.id for m in client.models.list().data]
    examples = _examples(3)
    same = 0
    for messages, want in examples:
        completion = client.chat.completions.create(
            model=model,
            messages=messages,  # type: ignore[arg-type]
            max_tokens=128,
            temperature=0,
        )
        assert completion.model == model
        same += " ".join((completion.choices[0].message.content or "").split()) == " ".join(want.split())
    assert same >= 2, f"the adapter reproduced {same} of {len(examples)} training answers"
    return (
        f"job {job.status} in {seconds:.0f} s ({job.trained_tokens} tokens); {model} is listed and "
        f"reproduced {same}/{len(examples)} training answers"
    )


def _post(client: openai.OpenAI, path: str, body: dict[str, Any]) -> Any:
    """A tuneway endpoint through the SDK's own request path (auth, base URL, errors)."""
    return client.post(path, body=body, cast_to=object)


def knowledge(client: openai.OpenAI) -> str:
    """A knowledge base of two example documents (uploaded as files), searched for each one."""
    kb = _post(client, "/knowledge_bases", {"name": "images-test"})["id"]
    for name in ("vacation-policy.md", "expense-policy.txt"):
        file = client.files.create(file=(name, (DOCUMENTS / name).read_bytes()), purpose="assistants")
        document = _post(
            client, f"/knowledge_bases/{kb}/documents", {"file_id": file.id, "source": name, "wait": True}
        )
        assert document["status"] == "completed", document
    questions = {
        "How many paid vacation days does a full-time employee get each year?": "vacation-policy.md",
        "What is the nightly hotel limit on business trips?": "expense-policy.txt",
    }
    for question, source in questions.items():
        hits = _post(client, f"/knowledge_bases/{kb}/search", {"query": question, "top_k": 3})["data"]
        assert hits and hits[0]["source"] == source, (question, hits[:1])
    return f"2 documents ingested; each of {len(questions)} questions found its document first"
