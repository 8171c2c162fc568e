"""/v1/knowledge_bases: knowledge bases, their documents (upload or /v1/files id) and search."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.gateway.audit.service import read_before
from tuneway.gateway.clients.retriever import RetrieverClient
from tuneway.gateway.deps import AuditTrail, CurrentPrincipal, Files, Retriever
from tuneway.gateway.http import Deleted, ListObject, deleted, json_response, list_object
from tuneway.gateway.knowledge import responses as obj
from tuneway.gateway.knowledge.documents import document_request
from tuneway.gateway.knowledge.schemas import CreateKnowledgeBaseBody, FileDocumentBody, SearchBody
from tuneway.gateway.openapi import UPSTREAM, documented, form_body

router = APIRouter(prefix="/v1/knowledge_bases", tags=["knowledge bases"])

# The document form is parsed by hand (multipart or JSON), so it is described for the docs here.
_DOCUMENT_BODY = form_body(
    ["file"],
    {
        "title": {"type": "string"},
        "source": {"type": "string"},
        "format": {"type": "string", "enum": ["txt", "markdown", "html", "pdf", "jsonl"]},
        "metadata": {"type": "string", "description": "JSON object of strings"},
        "wait": {"type": "boolean"},
    },
    FileDocumentBody.model_json_schema(),
)


async def _read_knowledge_base(retriever: RetrieverClient, tenant_id: str, kb_id: str) -> obj.KnowledgeBase:
    """The knowledge base as GET /v1/knowledge_bases/{kb_id} shows it."""
    request = pb.GetKnowledgeBaseRequest(tenant_id=tenant_id, id=kb_id)
    return obj.knowledge_base((await retriever.call(retriever.stub.GetKnowledgeBase, request)).knowledge_base)


async def _read_document(
    retriever: RetrieverClient, tenant_id: str, kb_id: str, document_id: str
) -> obj.Document:
    """The document as GET /v1/knowledge_bases/{kb_id}/documents/{document_id} shows it."""
    request = pb.GetDocumentRequest(tenant_id=tenant_id, knowledge_base_id=kb_id, id=document_id)
    return obj.document((await retriever.call(retriever.stub.GetDocument, request)).document)


def _document_path(kb_id: str, document_id: str) -> str:
    """A document's id in the audit log: its path under /v1/knowledge_bases."""
    return f"{kb_id}/documents/{document_id}"


@router.post(
    "",
    status_code=201,
    responses=documented(obj.KnowledgeBase, 404, 409, *UPSTREAM, status=201),
    summary="Create a knowledge base",
)
async def create_knowledge_base(
    body: CreateKnowledgeBaseBody, principal: CurrentPrincipal, retriever: Retriever, audit: AuditTrail
) -> Response:
    """201 with the knowledge base; chunk size and overlap count the embedder's tokens."""
    response = await retriever.call(retriever.stub.CreateKnowledgeBase, body.to_proto(principal.tenant_id))
    created = obj.knowledge_base(response.knowledge_base)
    await audit.record(principal, "knowledge_base.created", "knowledge_base", created["id"], None, created)
    return json_response(created, 201)


@router.get(
    "", responses=documented(ListObject[obj.KnowledgeBase], *UPSTREAM), summary="List knowledge bases"
)
async def list_knowledge_bases(principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """The tenant's knowledge bases, newest first."""
    request = pb.ListKnowledgeBasesRequest(tenant_id=principal.tenant_id)
    response = await retriever.call(retriever.stub.ListKnowledgeBases, request)
    return json_response(list_object([obj.knowledge_base(kb) for kb in response.knowledge_bases]))


@router.get(
    "/{kb_id}", responses=documented(obj.KnowledgeBase, 404, *UPSTREAM), summary="Retrieve a knowledge base"
)
async def get_knowledge_base(kb_id: str, principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """One knowledge base with its document and chunk counts."""
    return json_response(await _read_knowledge_base(retriever, principal.tenant_id, kb_id))


@router.delete("/{kb_id}", responses=documented(Deleted, 404, *UPSTREAM), summary="Delete a knowledge base")
async def delete_knowledge_base(
    kb_id: str, principal: CurrentPrincipal, retriever: Retriever, audit: AuditTrail
) -> Response:
    """Deletes the knowledge base with its documents and chunks."""
    before = await read_before(_read_knowledge_base(retriever, principal.tenant_id, kb_id))
    request = pb.DeleteKnowledgeBaseRequest(tenant_id=principal.tenant_id, id=kb_id)
    response = await retriever.call(retriever.stub.DeleteKnowledgeBase, request)
    await audit.record(principal, "knowledge_base.deleted", "knowledge_base", kb_id, before, None)
    return json_response(deleted(response.id, "knowledge_base.deleted"))


@router.post(
    "/{kb_id}/documents",
    status_code=201,
    responses=documented(obj.Document | obj.DocumentList, 404, *UPSTREAM, status=201),
    summary="Add a document",
    openapi_extra=_DOCUMENT_BODY,
)
async def add_document(
    kb_id: str,
    request: Request,
    principal: CurrentPrincipal,
    retriever: Retriever,
    files: Files,
    audit: AuditTrail,
) -> Response:
    """201 with the document (a list for JSONL, one per line); `wait` answers once it is searchable."""
    message = await document_request(request, principal.tenant_id, kb_id, files)
    documents = [obj.document(d) for d in (await retriever.add_document(message)).documents]
    changes = [(_document_path(kb_id, d["id"]), None, d) for d in documents]
    await audit.record_each(principal, "knowledge.document.added", "knowledge.document", changes)
    return json_response(documents[0] if len(documents) == 1 else list_object(documents), 201)


@router.put(
    "/{kb_id}/documents/{document_id}",
    responses=documented(obj.Document, 404, *UPSTREAM),
    summary="Replace a document",
    openapi_extra=_DOCUMENT_BODY,
)
async def replace_document(
    kb_id: str,
    document_id: str,
    request: Request,
    principal: CurrentPrincipal,
    retriever: Retriever,
    files: Files,
    audit: AuditTrail,
) -> Response:
    """New content for a document; its old chunks are served until the new ones are all in place."""
    message = await document_request(request, principal.tenant_id, kb_id, files, document_id)
    before = await read_before(_read_document(retriever, principal.tenant_id, kb_id, document_id))
    after = obj.document((await retriever.add_document(message)).documents[0])
    resource_id = _document_path(kb_id, document_id)
    await audit.record(
        principal, "knowledge.document.replaced", "knowledge.document", resource_id, before, after
    )
    return json_response(after)


@router.get(
    "/{kb_id}/documents",
    responses=documented(ListObject[obj.Document], 404, *UPSTREAM),
    summary="List documents",
)
async def list_documents(kb_id: str, principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """The knowledge base's documents with their ingestion status, oldest first."""
    request = pb.ListDocumentsRequest(tenant_id=principal.tenant_id, knowledge_base_id=kb_id)
    response = await retriever.call(retriever.stub.ListDocuments, request)
    return json_response(list_object([obj.document(d) for d in response.documents]))


@router.get(
    "/{kb_id}/documents/{document_id}",
    responses=documented(obj.Document, 404, *UPSTREAM),
    summary="Retrieve a document",
)
async def get_document(
    kb_id: str, document_id: str, principal: CurrentPrincipal, retriever: Retriever
) -> Response:
    """One document; `status` and `progress` follow its ingestion."""
    return json_response(await _read_document(retriever, principal.tenant_id, kb_id, document_id))


@router.delete(
    "/{kb_id}/documents/{document_id}",
    responses=documented(Deleted, 404, *UPSTREAM),
    summary="Delete a document",
)
async def delete_document(
    kb_id: str, document_id: str, principal: CurrentPrincipal, retriever: Retriever, audit: AuditTrail
) -> Response:
    """Deletes the document and its chunks."""
    before = await read_before(_read_document(retriever, principal.tenant_id, kb_id, document_id))
    request = pb.DeleteDocumentRequest(tenant_id=principal.tenant_id, knowledge_base_id=kb_id, id=document_id)
    response = await retriever.call(retriever.stub.DeleteDocument, request)
    resource_id = _document_path(kb_id, document_id)
    await audit.record(
        principal, "knowledge.document.deleted", "knowledge.document", resource_id, before, None
    )
    return json_response(deleted(response.id, "knowledge_base.document.deleted"))


@router.post(
    "/{kb_id}/search",
    responses=documented(obj.SearchResults, 404, *UPSTREAM),
    summary="Search a knowledge base",
)
async def search(kb_id: str, body: SearchBody, principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """The chunks nearest to the query, best first, with their documents and scores."""
    response = await retriever.call(retriever.stub.Search, body.to_proto(principal.tenant_id, kb_id))
    return json_response(obj.search_results(response.hits, body.query))
