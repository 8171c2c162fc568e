"""The retriever over gRPC on SQLite and PostgreSQL: knowledge bases, ingestion, search, isolation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError

from .conftest import Replicas

pytestmark = pytest.mark.integration


async def _kb(stub: Any, tenant: str, name: str = "policies", **fields: Any) -> pb.KnowledgeBase:
    request = pb.CreateKnowledgeBaseRequest(tenant_id=tenant, name=name, **fields)
    return (await stub.CreateKnowledgeBase(request)).knowledge_base


async def _add(
    stub: Any, tenant: str, kb: str, data: bytes, filename: str, **fields: Any
) -> list[pb.Document]:
    fields.setdefault("wait", True)
    request = pb.AddDocumentRequest(
        tenant_id=tenant, knowledge_base_id=kb, data=data, filename=filename, **fields
    )
    return list((await stub.AddDocument(request)).documents)


async def _search(stub: Any, tenant: str, kbs: list[str], query: str, **fields: Any) -> list[pb.SearchHit]:
    request = pb.SearchRequest(tenant_id=tenant, knowledge_base_ids=kbs, query=query, **fields)
    return list((await stub.Search(request)).hits)


HOTEL_OLD = b"# Travel\n\nHotel rooms are reimbursed up to 180 euros per night.\n"
HOTEL_NEW = b"# Travel\n\nHotel rooms are reimbursed up to 210 euros per night, breakfast included.\n"
LEAVE = b"# Leave\n\nFull-time employees receive 27 days of paid vacation per year.\n"


async def test_knowledge_base_crud_and_validation(stub: Any, tenant: str, rpc_error: Any) -> None:
    kb = await _kb(stub, tenant, description="HR", metadata={"team": "people"})
    assert kb.id.startswith("kb_") and kb.chunk_size == 200 and kb.chunk_overlap == 40
    assert kb.embedding_model == "all-MiniLM-L6-v2" and dict(kb.metadata) == {"team": "people"}
    assert isinstance(await rpc_error(_kb(stub, tenant)), AlreadyExistsError)
    error = await rpc_error(_kb(stub, tenant, "big", chunk_size=1000))
    assert isinstance(error, InvalidArgumentError) and error.param == "chunk_size"
    error = await rpc_error(_kb(stub, tenant, "overlap", chunk_size=100, chunk_overlap=80))
    assert isinstance(error, InvalidArgumentError) and error.param == "chunk_overlap"
    error = await rpc_error(_kb(stub, tenant, "model", embedding_model="text-embedding-3-small"))
    assert isinstance(error, NotFoundError) and error.code == "model_not_found"
    small = await _kb(stub, tenant, "small", chunk_size=64, chunk_overlap=0)
    listed = (await stub.ListKnowledgeBases(pb.ListKnowledgeBasesRequest(tenant_id=tenant))).knowledge_bases
    assert {k.id for k in listed} == {kb.id, small.id}
    await stub.DeleteKnowledgeBase(pb.DeleteKnowledgeBaseRequest(tenant_id=tenant, id=small.id))
    error = await rpc_error(stub.GetKnowledgeBase(pb.GetKnowledgeBaseRequest(tenant_id=tenant, id=small.id)))
    assert isinstance(error, NotFoundError) and error.code == "knowledge_base_not_found"


async def test_ingest_search_replace_delete(stub: Any, tenant: str, rpc_error: Any) -> None:
    kb = (await _kb(stub, tenant)).id
    [travel] = await _add(stub, tenant, kb, HOTEL_OLD, "travel.md", metadata={"lang": "en"})
    [leave] = await _add(stub, tenant, kb, LEAVE, "leave.md")
    assert travel.status == "completed" and travel.revision == 1 and travel.chunk_count == 1
    assert travel.title == "Travel" and travel.format == "markdown" and travel.source == "travel.md"
    assert travel.chunks_done == travel.chunks_total == 1
    hits = await _search(stub, tenant, [kb], "What is the hotel limit per night?", top_k=2)
    assert hits[0].document_id == travel.id and "180 euros" in hits[0].text
    assert (
        hits[0].title == "Travel"
        and dict(hits[0].metadata) == {"lang": "en"}
        and hits[0].score > hits[1].score
    )

    [replaced] = await _add(stub, tenant, kb, HOTEL_NEW, "travel.md", document_id=travel.id)
    assert replaced.id == travel.id and replaced.revision == 2 and replaced.status == "completed"
    hits = await _search(stub, tenant, [kb], "What is the hotel limit per night?", top_k=5)
    texts = [h.text for h in hits if h.document_id == travel.id]
    assert texts and all("210 euros" in t for t in texts) and not any("180" in t for t in texts)

    assert [h.document_id for h in await _search(stub, tenant, [kb], "hotel", filter={"lang": "en"})] == [
        travel.id
    ]
    assert await _search(stub, tenant, [kb], "hotel", score_threshold=0.99) == []
    only = await _search(stub, tenant, [kb], "hotel", document_ids=[leave.id])
    assert {h.document_id for h in only} == {leave.id}

    await stub.DeleteDocument(pb.DeleteDocumentRequest(tenant_id=tenant, knowledge_base_id=kb, id=travel.id))
    assert {h.document_id for h in await _search(stub, tenant, [kb], "hotel")} == {leave.id}
    error = await rpc_error(
        stub.GetDocument(pb.GetDocumentRequest(tenant_id=tenant, knowledge_base_id=kb, id=travel.id))
    )
    assert isinstance(error, NotFoundError) and error.code == "document_not_found"
    stats = (await stub.GetKnowledgeBase(pb.GetKnowledgeBaseRequest(tenant_id=tenant, id=kb))).knowledge_base
    assert (stats.document_count, stats.chunk_count) == (1, 1)


async def test_tenants_are_isolated(stub: Any, tenant: str, rpc_error: Any) -> None:
    kb = (await _kb(stub, tenant)).id
    [doc] = await _add(stub, tenant, kb, LEAVE, "leave.md")
    other = f"{tenant}-other"
    error = await rpc_error(_search(stub, other, [kb], "vacation days"))
    assert isinstance(error, NotFoundError) and error.param == "knowledge_base_ids"
    own = (await _kb(stub, other, "policies")).id  # same name, other tenant: allowed
    assert await _search(stub, other, [own], "vacation days") == []
    assert isinstance(
        await rpc_error(
            stub.GetDocument(pb.GetDocumentRequest(tenant_id=other, knowledge_base_id=kb, id=doc.id))
        ),
        NotFoundError,
    )
    assert isinstance(
        await rpc_error(stub.DeleteKnowledgeBase(pb.DeleteKnowledgeBaseRequest(tenant_id=other, id=kb))),
        NotFoundError,
    )
    assert isinstance(await rpc_error(_add(stub, other, kb, LEAVE, "leave.md")), NotFoundError)
    assert [h.document_id for h in await _search(stub, tenant, [kb], "vacation days")] == [doc.id]


async def test_bad_files_leave_the_knowledge_base_unchanged(stub: Any, tenant: str, rpc_error: Any) -> None:
    kb = (await _kb(stub, tenant)).id
    [doc] = await _add(stub, tenant, kb, LEAVE, "leave.md")
    bad = [
        (b"PK\x03\x04", "policy.docx", "Unsupported file type '.docx'"),
        (b"%PDF-1.7 truncated", "broken.pdf", "could not be read as a PDF"),
        (b'{"text": "fine"}\n{"text": ""}\n', "docs.jsonl", "line 2"),
    ]
    for data, name, message in bad:
        error = await rpc_error(_add(stub, tenant, kb, data, name))
        assert isinstance(error, InvalidArgumentError) and message in error.message
        error = await rpc_error(_add(stub, tenant, kb, data, name, document_id=doc.id))
        assert isinstance(error, InvalidArgumentError) and message in error.message
    documents = (
        await stub.ListDocuments(pb.ListDocumentsRequest(tenant_id=tenant, knowledge_base_id=kb))
    ).documents
    assert [(d.id, d.revision, d.status) for d in documents] == [(doc.id, 1, "completed")]
    hits = await _search(stub, tenant, [kb], "vacation days")
    assert [h.document_id for h in hits] == [doc.id] and "27 days" in hits[0].text


async def test_jsonl_and_background_progress(stub: Any, tenant: str) -> None:
    kb = (await _kb(stub, tenant, chunk_size=32, chunk_overlap=8)).id
    lines = [
        json.dumps({"title": f"Rule {i}", "source": f"rules#{i}", "text": f"Rule {i} text. " * 40})
        for i in range(3)
    ]
    documents = await _add(stub, tenant, kb, "\n".join(lines).encode(), "rules.jsonl", wait=False)
    assert [d.title for d in documents] == ["Rule 0", "Rule 1", "Rule 2"]
    assert all(d.status == "in_progress" and d.chunks_total > 3 and d.chunks_done == 0 for d in documents)
    for _ in range(300):
        listed = (
            await stub.ListDocuments(pb.ListDocumentsRequest(tenant_id=tenant, knowledge_base_id=kb))
        ).documents
        if all(d.status == "completed" for d in listed):
            break
        await asyncio.sleep(0.1)
    assert all(d.status == "completed" and d.chunks_done == d.chunks_total == d.chunk_count for d in listed)
    hits = await _search(stub, tenant, [kb], "Rule 2 text", top_k=3)
    assert hits[0].source.startswith("rules#")


async def test_data_survives_a_restart(replicas: Replicas, tenant: str) -> None:
    stub = await replicas.start()
    kb = (await _kb(stub, tenant)).id
    [doc] = await _add(stub, tenant, kb, LEAVE, "leave.md")
    stub = await replicas.start()  # stops the first replica, starts another on the same stores
    [hit] = await _search(stub, tenant, [kb], "vacation days", top_k=1)
    assert hit.document_id == doc.id and "27 days" in hit.text


async def test_embed(stub: Any, tenant: str, rpc_error: Any) -> None:
    response = await stub.Embed(pb.EmbedRequest(tenant_id=tenant, inputs=["hello world", "vacation days"]))
    assert response.model == "all-MiniLM-L6-v2" and len(response.embeddings) == 2
    assert all(len(e.values) == 384 for e in response.embeddings)
    assert response.prompt_tokens == 4
    models = (await stub.ListEmbeddingModels(pb.ListEmbeddingModelsRequest(tenant_id=tenant))).models
    assert [(m.id, m.dimensions, m.backend) for m in models] == [("all-MiniLM-L6-v2", 384, "openvino")]
    error = await rpc_error(stub.Embed(pb.EmbedRequest(tenant_id=tenant, inputs=["ok", ""])))
    assert isinstance(error, InvalidArgumentError) and "input[1]" in error.message
