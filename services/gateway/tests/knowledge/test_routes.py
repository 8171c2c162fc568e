"""/v1/knowledge_bases and /v1/embeddings over HTTP, with a real retriever replica behind the gateway."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tuneway.core.testing.processes import free_port

# The `knowledge_gateway` fixture builds on `start_gateway` from the tests folder's conftest.
Gateway = Any

retriever_main = pytest.importorskip("tuneway.retriever.main")
pytestmark = pytest.mark.integration


@pytest.fixture
async def knowledge_gateway(start_gateway: Callable[..., Any], tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway and a retriever on SQLite and local Qdrant, sharing the artifact store."""
    from tuneway.retriever.settings import RetrieverSettings

    port = free_port()
    settings = RetrieverSettings(
        grpc_port=port, host="127.0.0.1", data_dir=tmp_path / "data", metrics_port=0, embed_batch_size=16
    )
    server = retriever_main.RetrieverServer(settings)
    await server.start()
    try:
        async with start_gateway(retriever_target=f"127.0.0.1:{port}") as gateway:
            yield gateway
    finally:
        await server.stop()


LEAVE = b"# Leave\n\nFull-time employees receive 27 days of paid vacation per year.\n"


async def test_knowledge_base_documents_and_search(knowledge_gateway: Gateway) -> None:
    gw = knowledge_gateway
    client, acme, globex = gw.app_client, gw.auth(gw.acme_key), gw.auth(gw.globex_key)
    created = await client.post("/v1/knowledge_bases", json={"name": "hr", "chunk_size": 128}, headers=acme)
    assert created.status_code == 201, created.text
    kb = created.json()
    assert kb["object"] == "knowledge_base" and kb["chunk_size"] == 128 and kb["chunk_overlap"] == 40

    added = await client.post(
        f"/v1/knowledge_bases/{kb['id']}/documents",
        files={"file": ("leave.md", LEAVE, "text/markdown")},
        data={"metadata": '{"lang": "en"}', "wait": "true"},
        headers=acme,
    )
    assert added.status_code == 201, added.text
    doc = added.json()
    assert doc["object"] == "knowledge_base.document" and doc["status"] == "completed"
    assert doc["progress"] == {"chunks_done": 1, "chunks_total": 1} and doc["metadata"] == {"lang": "en"}

    uploaded = await client.post(
        "/v1/files",
        files={"file": ("hotels.txt", b"Hotels are reimbursed up to 180 euros per night.", "text/plain")},
        data={"purpose": "assistants"},
        headers=acme,
    )
    assert uploaded.status_code == 200, uploaded.text
    file_id = uploaded.json()["id"]
    from_file = await client.post(
        f"/v1/knowledge_bases/{kb['id']}/documents", json={"file_id": file_id, "wait": True}, headers=acme
    )
    assert from_file.status_code == 201, from_file.text
    assert from_file.json()["source"] == file_id and from_file.json()["title"] == "hotels"

    found = await client.post(
        f"/v1/knowledge_bases/{kb['id']}/search",
        json={"query": "hotel price limit", "top_k": 1},
        headers=acme,
    )
    assert found.status_code == 200, found.text
    [hit] = found.json()["data"]
    assert hit["document_id"] == from_file.json()["id"] and "180 euros" in hit["text"]

    replaced = await client.put(
        f"/v1/knowledge_bases/{kb['id']}/documents/{doc['id']}",
        files={"file": ("leave.md", LEAVE.replace(b"27", b"30"), "text/markdown")},
        data={"wait": "true"},
        headers=acme,
    )
    assert replaced.status_code == 200 and replaced.json()["revision"] == 2, replaced.text

    # Another tenant sees nothing of it.
    for method, path in (
        ("GET", f"/v1/knowledge_bases/{kb['id']}"),
        ("GET", f"/v1/knowledge_bases/{kb['id']}/documents"),
        ("POST", f"/v1/knowledge_bases/{kb['id']}/search"),
    ):
        response = await client.request(method, path, json={"query": "vacation"}, headers=globex)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "knowledge_base_not_found"
    assert (await client.get("/v1/knowledge_bases", headers=globex)).json()["data"] == []

    deleted = await client.delete(f"/v1/knowledge_bases/{kb['id']}", headers=acme)
    assert deleted.json() == {"id": kb["id"], "object": "knowledge_base.deleted", "deleted": True}


async def test_bad_documents_are_400_and_name_the_problem(knowledge_gateway: Gateway) -> None:
    gw = knowledge_gateway
    client, acme = gw.app_client, gw.auth(gw.acme_key)
    kb = (await client.post("/v1/knowledge_bases", json={"name": "hr"}, headers=acme)).json()
    path = f"/v1/knowledge_bases/{kb['id']}/documents"
    cases = [
        ({"files": {"file": ("a.docx", b"PK\x03\x04", "application/octet-stream")}}, "Unsupported file type"),
        ({"files": {"file": ("b.pdf", b"%PDF-1.7 nope", "application/pdf")}}, "could not be read as a PDF"),
        ({"json": {"file_id": "file-missing"}}, "No such File object"),
        ({"data": {"title": "no file"}}, "multipart 'file' part"),
        (
            {"files": {"file": ("c.md", b"ok", "text/markdown")}, "data": {"metadata": "[1]"}},
            "'metadata' must be a JSON object",
        ),
    ]
    for request, message in cases:
        response = await client.post(path, headers=acme, **request)
        assert response.status_code in (400, 404), response.text
        assert message in response.json()["error"]["message"]
    listed = await client.get(path, headers=acme)
    assert listed.json()["data"] == []

    # Issue 12: each of these was a 500 (int32 overflow on the wire, UTF-8 of a lone surrogate) or, for
    # `query`, a 400 naming no field (the location filter dropped a body field called query).
    bodies = [
        ("/v1/knowledge_bases", {"name": "big", "chunk_overlap": 2**31}, "chunk_overlap"),
        (f"/v1/knowledge_bases/{kb['id']}/search", {"query": "leave \udc00"}, "query"),
        ("/v1/embeddings", {"model": "all-MiniLM-L6-v2", "input": ["ok", "\ud800"]}, "input"),
    ]
    for url, body, param in bodies:
        # json.dumps escapes a lone surrogate (valid JSON), which httpx's UTF-8 encoding would refuse.
        headers = {**acme, "Content-Type": "application/json"}
        response = await client.post(url, headers=headers, content=json.dumps(body))
        assert response.status_code == 400, (url, body, response.text)
        assert response.json()["error"]["param"] == param, (url, body, response.text)


async def test_embeddings_with_the_openai_sdk(knowledge_gateway: Gateway) -> None:
    sdk = knowledge_gateway.sdk(knowledge_gateway.acme_key)
    # The SDK asks for base64 by default and decodes it to floats.
    response = await sdk.embeddings.create(model="all-MiniLM-L6-v2", input=["hello world", "vacation days"])
    assert response.object == "list" and response.model == "all-MiniLM-L6-v2"
    assert [d.index for d in response.data] == [0, 1] and all(len(d.embedding) == 384 for d in response.data)
    assert response.usage.prompt_tokens == response.usage.total_tokens == 4
    single = await sdk.embeddings.create(
        model="sentence-transformers/all-MiniLM-L6-v2", input="hello world", encoding_format="float"
    )
    assert np.allclose(single.data[0].embedding, response.data[0].embedding, atol=1e-6)

    raw = await knowledge_gateway.app_client.post(
        "/v1/embeddings",
        json={"model": "all-MiniLM-L6-v2", "input": "hello", "encoding_format": "base64"},
        headers=knowledge_gateway.auth(knowledge_gateway.acme_key),
    )
    vector = np.frombuffer(base64.b64decode(raw.json()["data"][0]["embedding"]), dtype="<f4")
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4

    import openai

    with pytest.raises(openai.NotFoundError) as missing:
        await sdk.embeddings.create(model="text-embedding-3-small", input="x")
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as tokens:
        await sdk.embeddings.create(model="all-MiniLM-L6-v2", input=[[1, 2, 3]])
    assert tokens.value.param == "input"
    with pytest.raises(openai.BadRequestError) as dims:
        await sdk.embeddings.create(model="all-MiniLM-L6-v2", input="x", dimensions=256)
    assert dims.value.param == "dimensions"
