"""The knowledge layer through the stack: ingest the example policies, recall, updates, tenants, bad files,
embeddings with the OpenAI SDK, and data that outlives a retriever restart."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, REPO_ROOT, RunningStack, Tenant
from tuneway.core.testing.processes import free_port, wait_for_port

pytestmark = pytest.mark.e2e
EXAMPLES = REPO_ROOT / "examples" / "knowledge"
DOCUMENTS = EXAMPLES / "documents"


def _http(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300)


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _upload(http: httpx.Client, kb: str, path: Path, **fields: str) -> Any:
    files = {"file": (path.name, path.read_bytes())}
    return _ok(
        http.post(f"/v1/knowledge_bases/{kb}/documents", files=files, data={"wait": "true", **fields}), 201
    )


def _search(http: httpx.Client, kb: str, query: str, top_k: int = 5) -> list[dict[str, Any]]:
    body = _ok(http.post(f"/v1/knowledge_bases/{kb}/search", json={"query": query, "top_k": top_k}))
    hits: list[dict[str, Any]] = body["data"]
    return hits


def _ingest_examples(http: httpx.Client, kb: str) -> None:
    """Every example document: uploads, and the PDF through /v1/files and its file id."""
    for path in sorted(DOCUMENTS.iterdir()):
        if path.suffix == ".pdf":
            uploaded = _ok(
                http.post(
                    "/v1/files",
                    files={"file": (path.name, path.read_bytes())},
                    data={"purpose": "assistants"},
                )
            )
            body = {"file_id": uploaded["id"], "source": path.name, "wait": True}
            doc = _ok(http.post(f"/v1/knowledge_bases/{kb}/documents", json=body), 201)
            assert doc["status"] == "completed" and doc["format"] == "pdf", doc
        else:
            _upload(http, kb, path)


@pytest.fixture(scope="module")
def policies(stack: RunningStack, acme: Tenant) -> str:
    """Acme's knowledge base with the example policies ingested."""
    with _http(stack.gateway_url, acme.key) as http:
        kb = _ok(http.post("/v1/knowledge_bases", json={"name": "larkspur-policies"}), 201)["id"]
        _ingest_examples(http, kb)
    return str(kb)


def test_example_knowledge_base_recall(stack: RunningStack, acme: Tenant, policies: str) -> None:
    questions = [json.loads(line) for line in (EXAMPLES / "questions.jsonl").read_text().splitlines() if line]
    at_1 = at_5 = 0
    misses = []
    with _http(stack.gateway_url, acme.key) as http:
        documents = _ok(http.get(f"/v1/knowledge_bases/{policies}/documents"))["data"]
        assert len(documents) == 9 and all(d["status"] == "completed" for d in documents)
        assert {d["format"] for d in documents} == {"markdown", "txt", "html", "pdf"}
        for question in questions:
            sources = [hit["source"] for hit in _search(http, policies, question["question"])]
            at_1 += sources[:1] == [question["source"]]
            at_5 += question["source"] in sources
            if question["source"] not in sources:
                misses.append((question["question"], sources))
    recall_1, recall_5 = at_1 / len(questions), at_5 / len(questions)
    print(f"recall@1 {recall_1:.3f}  recall@5 {recall_5:.3f}  ({len(questions)} questions)")
    assert recall_5 >= 0.9, misses


def test_updated_document_replaces_the_old_text(stack: RunningStack, acme: Tenant) -> None:
    with _http(stack.gateway_url, acme.key) as http:
        kb = _ok(http.post("/v1/knowledge_bases", json={"name": "expenses-update"}), 201)["id"]
        path = DOCUMENTS / "expense-policy.txt"
        doc = _upload(http, kb, path)
        question = "What is the nightly hotel limit on business trips?"
        assert "180 euros per night" in _search(http, kb, question, 1)[0]["text"]
        new = path.read_text().replace("up to 180 euros per night", "up to 210 euros per night")
        files = {"file": (path.name, new.encode())}
        replaced = _ok(
            http.put(f"/v1/knowledge_bases/{kb}/documents/{doc['id']}", files=files, data={"wait": "1"})
        )
        assert replaced["revision"] == 2 and replaced["status"] == "completed"
        hits = _search(http, kb, question, 20)
        assert "210 euros per night" in hits[0]["text"]
        assert not any("180 euros" in hit["text"] for hit in hits)
        assert {hit["document_id"] for hit in hits} == {doc["id"]}


def test_tenants_cannot_reach_each_others_chunks(
    stack: RunningStack, acme: Tenant, globex: Tenant, policies: str
) -> None:
    with _http(stack.gateway_url, globex.key) as http:
        error = http.post(f"/v1/knowledge_bases/{policies}/search", json={"query": "vacation days"})
        assert error.status_code == 404 and error.json()["error"]["code"] == "knowledge_base_not_found"
        assert http.get(f"/v1/knowledge_bases/{policies}/documents").status_code == 404
        assert http.delete(f"/v1/knowledge_bases/{policies}").status_code == 404
        own = _ok(http.post("/v1/knowledge_bases", json={"name": "larkspur-policies"}), 201)["id"]
        _upload(http, own, DOCUMENTS / "customer-refunds.md")
        hits = _search(http, own, "How many paid vacation days does a full-time employee get?", 20)
        assert hits and all(hit["source"] == "customer-refunds.md" for hit in hits)
    with _http(stack.gateway_url, acme.key) as http:
        assert _search(http, policies, "vacation days", 1)[0]["source"] == "vacation-policy.md"


def test_bad_files_get_a_clear_error_and_change_nothing(
    stack: RunningStack, acme: Tenant, policies: str
) -> None:
    with _http(stack.gateway_url, acme.key) as http:
        before = _ok(http.get(f"/v1/knowledge_bases/{policies}"))
        documents = _ok(http.get(f"/v1/knowledge_bases/{policies}/documents"))["data"]
        path = f"/v1/knowledge_bases/{policies}/documents"
        cases = [
            (("handbook.docx", b"PK\x03\x04\x14\x00"), "Unsupported file type '.docx'"),
            (("scan.pdf", b"%PDF-1.7\n% truncated upload"), "could not be read as a PDF"),
            (("notes.txt", "Gebühren".encode("latin-1")), "is not valid UTF-8"),
            (
                ("faq.jsonl", b'{"text": "fine"}\n{"title": "missing text"}\n'),
                "line 2 needs a non-empty string",
            ),
        ]
        for (name, data), message in cases:
            response = http.post(path, files={"file": (name, data)}, data={"wait": "true"})
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert message in error["message"] and error["type"] == "invalid_request_error"
            replaced = http.put(f"{path}/{documents[0]['id']}", files={"file": (name, data)})
            assert replaced.status_code == 400 and message in replaced.json()["error"]["message"]
        after = _ok(http.get(f"/v1/knowledge_bases/{policies}"))
        assert (after["document_count"], after["chunk_count"]) == (
            before["document_count"],
            before["chunk_count"],
        )
        assert _ok(http.get(path))["data"] == documents


def test_embeddings_with_the_openai_sdk(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    response = client.embeddings.create(model="all-MiniLM-L6-v2", input=["vacation days", "hotel limit"])
    assert response.model == "all-MiniLM-L6-v2" and [len(d.embedding) for d in response.data] == [384, 384]
    assert response.usage.prompt_tokens > 0
    single = client.embeddings.create(
        model="all-MiniLM-L6-v2", input="vacation days", encoding_format="float"
    )
    assert len(single.data[0].embedding) == 384


@pytest.fixture
def small_stack(nats_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Just the gateway and the retriever, started by the launcher as `make run` starts them."""
    from tuneway.devstack.launcher import Stack, StackConfig

    ports = {name: free_port() for name in ("gateway", "retriever", "metrics")}
    config = StackConfig(
        data_dir=tmp_path / "stack",
        nats_url=nats_url,
        gateway_port=ports["gateway"],
        gateway_metrics_port=0,  # none: the default port may be taken by another stack on this machine
        retriever_port=ports["retriever"],
        retriever_metrics_port=ports["metrics"],
        bootstrap_key=ADMIN_KEY,
    )
    stack = Stack(config)
    stack.start_service("retriever", "tuneway.retriever")
    stack.start_service("gateway", "tuneway.gateway")
    try:
        wait_for_port("127.0.0.1", ports["gateway"], 120)
        yield {"stack": stack, "url": stack.gateway_url, "retriever_port": ports["retriever"]}
    finally:
        stack.stop()


def _wait_retriever(url: str, key: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    with _http(url, key) as http:
        while http.get("/v1/knowledge_bases").status_code != 200:
            assert time.monotonic() < deadline, "the retriever did not come up"
            time.sleep(0.5)


@pytest.mark.faults
def test_knowledge_survives_a_retriever_restart(small_stack: dict[str, Any]) -> None:
    stack, url = small_stack["stack"], small_stack["url"]
    with _http(url, ADMIN_KEY) as admin:
        tenant = _ok(admin.post("/admin/tenants", json={"name": "restart"}), 201)["id"]
        key = _ok(
            admin.post("/admin/keys", json={"tenant_id": tenant, "role": "member", "name": "e2e"}), 201
        )["key"]
    _wait_retriever(url, key)
    with _http(url, key) as http:
        kb = _ok(http.post("/v1/knowledge_bases", json={"name": "policies"}), 201)["id"]
        doc = _upload(http, kb, DOCUMENTS / "vacation-policy.md")
    stack.stop_service("retriever", signal.SIGTERM)
    stack.start_service("retriever", "tuneway.retriever")
    wait_for_port("127.0.0.1", small_stack["retriever_port"], 180)
    _wait_retriever(url, key)
    with _http(url, key) as http:
        [hit] = _search(http, kb, "How many vacation days can I carry over?", 1)
        assert hit["document_id"] == doc["id"] and "five unused vacation days" in hit["text"]
        assert _ok(http.get(f"/v1/knowledge_bases/{kb}"))["document_count"] == 1
    assert (stack.data_dir / "qdrant").is_dir()


def test_assistant_answers_with_sources_or_says_it_does_not_know(
    stack: RunningStack, acme: Tenant, policies: str
) -> None:
    from tuneway.gateway.knowledge.retrieval import NO_ANSWER

    system = "Answer only from these excerpts of company policy and cite them as [n]:\n\n{{ context }}"
    prompt = {
        "name": "policy-helper",
        "messages": [{"role": "system", "content": system}],
        "variables": [{"name": "context", "default": ""}],
        "parameters": {"temperature": 0, "max_tokens": 8},
    }
    knowledge = {"knowledge_base_ids": [policies], "top_k": 3, "score_threshold": 0.35}
    with _http(stack.gateway_url, acme.key) as http:
        _ok(http.post("/v1/prompts", json=prompt), 201)
        bot = {"base_model": "tuneway-tiny", "prompt": "policy-helper"}
        _ok(http.post("/v1/assistants", json={"name": "policy-bot", **bot, "knowledge": knowledge}), 201)
        _ok(http.post("/v1/assistants", json={"name": "policy-bot-plain", **bot}), 201)
    client = stack.client(acme.key)
    question = [{"role": "user", "content": "How many unused vacation days can I carry over into next year?"}]

    answer = client.chat.completions.create(model="assistant:policy-bot", messages=question)
    served = answer.model_extra["tuneway"]
    sources = served["sources"]
    assert sources and sources[0]["source"] == "vacation-policy.md", served
    assert len(sources) <= 3 and all(s["score"] >= 0.35 for s in sources)
    assert served["knowledge"] == knowledge
    plain = client.chat.completions.create(model="assistant:policy-bot-plain", messages=question)
    assert "sources" not in plain.model_extra["tuneway"]
    # The excerpts reached the prompt through {{ context }}: they cost the model hundreds of tokens.
    assert answer.usage.prompt_tokens > plain.usage.prompt_tokens + 100

    stream = client.chat.completions.create(model="assistant:policy-bot", messages=question, stream=True)
    first = next(iter(stream))
    assert first.model_extra["tuneway"]["sources"] == sources
    stream.close()

    off_topic = [{"role": "user", "content": "Which moon of Jupiter has the thickest ice crust?"}]
    unknown = client.chat.completions.create(model="assistant:policy-bot", messages=off_topic)
    assert unknown.choices[0].message.content == NO_ANSWER
    assert unknown.model_extra["tuneway"]["sources"] == []
    assert unknown.choices[0].finish_reason == "stop"
