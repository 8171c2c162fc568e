"""/v1/knowledge_bases: knowledge bases, their documents (upload or /v1/files id) and search."""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.deps import CurrentPrincipal, Files, Retriever
from tuneway.gateway.files.service import FileService
from tuneway.gateway.knowledge import responses as obj
from tuneway.gateway.knowledge.schemas import CreateKnowledgeBaseBody, FileDocumentBody, SearchBody
from tuneway.gateway.tenancy.authentication import Principal

router = APIRouter(prefix="/v1/knowledge_bases", tags=["knowledge bases"])

# The document form is parsed by hand (multipart or JSON), so it is described for the docs here.
_DOCUMENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string"},
                        "source": {"type": "string"},
                        "format": {"type": "string", "enum": ["txt", "markdown", "html", "pdf", "jsonl"]},
                        "metadata": {"type": "string", "description": "JSON object of strings"},
                        "wait": {"type": "boolean"},
                    },
                }
            },
            "application/json": {"schema": FileDocumentBody.model_json_schema()},
        },
    }
}


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _bad(message: str, param: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, param=param, code="invalid_value")


def _metadata(raw: str) -> dict[str, str]:
    """The form's metadata field: a JSON object of strings."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise _bad("'metadata' must be a JSON object of strings.", "metadata") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _bad("'metadata' must be a JSON object of strings.", "metadata")
    return value


async def _document_request(
    request: Request, principal: Principal, kb_id: str, files: FileService, document_id: str = ""
) -> pb.AddDocumentRequest:
    """The AddDocument request from a multipart upload or a JSON body naming a /v1/files id."""
    message = pb.AddDocumentRequest(
        tenant_id=principal.tenant_id, knowledge_base_id=kb_id, document_id=document_id
    )
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = FileDocumentBody.model_validate_json(await request.body())
        except ValidationError as error:
            first = error.errors()[0]
            param = ".".join(str(p) for p in first["loc"]) or None
            raise InvalidArgumentError(f"Invalid request: {first['msg']}.", param=param) from None
        record = await files.get(principal.tenant_id, body.file_id)
        message.uri = record.uri
        message.filename = record.filename
        message.source = body.source or record.id
        message.title, message.format, message.wait = body.title, body.format, body.wait
        message.metadata.update(body.metadata)
        return message
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidArgumentError(
            "Send the document as a multipart 'file' part, or JSON with a 'file_id' from /v1/files.",
            param="file",
            code="missing_required_parameter",
        )
    message.data = await upload.read()
    message.filename = upload.filename or ""
    message.title = str(form.get("title") or "")
    message.source = str(form.get("source") or "")
    message.format = str(form.get("format") or "")
    message.metadata.update(_metadata(str(form.get("metadata") or "")))
    message.wait = str(form.get("wait") or request.query_params.get("wait", "")).lower() in (
        "1",
        "true",
        "yes",
    )
    return message


@router.post("", status_code=201, summary="Create a knowledge base")
async def create_knowledge_base(
    body: CreateKnowledgeBaseBody, principal: CurrentPrincipal, retriever: Retriever
) -> Response:
    """201 with the knowledge base; chunk size and overlap count the embedder's tokens."""
    response = await retriever.call(retriever.stub.CreateKnowledgeBase, body.to_proto(principal.tenant_id))
    return _json(obj.knowledge_base(response.knowledge_base), 201)


@router.get("", summary="List knowledge bases")
async def list_knowledge_bases(principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """The tenant's knowledge bases, newest first."""
    response = await retriever.call(
        retriever.stub.ListKnowledgeBases, pb.ListKnowledgeBasesRequest(tenant_id=principal.tenant_id)
    )
    return _json(obj.listing([obj.knowledge_base(kb) for kb in response.knowledge_bases]))


@router.get("/{kb_id}", summary="Retrieve a knowledge base")
async def get_knowledge_base(kb_id: str, principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """One knowledge base with its document and chunk counts."""
    response = await retriever.call(
        retriever.stub.GetKnowledgeBase, pb.GetKnowledgeBaseRequest(tenant_id=principal.tenant_id, id=kb_id)
    )
    return _json(obj.knowledge_base(response.knowledge_base))


@router.delete("/{kb_id}", summary="Delete a knowledge base")
async def delete_knowledge_base(kb_id: str, principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """Deletes the knowledge base with its documents and chunks."""
    request = pb.DeleteKnowledgeBaseRequest(tenant_id=principal.tenant_id, id=kb_id)
    response = await retriever.call(retriever.stub.DeleteKnowledgeBase, request)
    return _json({"id": response.id, "object": "knowledge_base.deleted", "deleted": True})


@router.post("/{kb_id}/documents", status_code=201, summary="Add a document", openapi_extra=_DOCUMENT_BODY)
async def add_document(
    kb_id: str, request: Request, principal: CurrentPrincipal, retriever: Retriever, files: Files
) -> Response:
    """201 with the document (a list for JSONL, one per line); `wait` answers once it is searchable."""
    response = await retriever.add_document(await _document_request(request, principal, kb_id, files))
    documents = [obj.document(d) for d in response.documents]
    return _json(documents[0] if len(documents) == 1 else obj.listing(documents), 201)


@router.put("/{kb_id}/documents/{document_id}", summary="Replace a document", openapi_extra=_DOCUMENT_BODY)
async def replace_document(
    kb_id: str,
    document_id: str,
    request: Request,
    principal: CurrentPrincipal,
    retriever: Retriever,
    files: Files,
) -> Response:
    """New content for a document; its old chunks are served until the new ones are all in place."""
    message = await _document_request(request, principal, kb_id, files, document_id)
    response = await retriever.add_document(message)
    return _json(obj.document(response.documents[0]))


@router.get("/{kb_id}/documents", summary="List documents")
async def list_documents(kb_id: str, principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """The knowledge base's documents with their ingestion status, oldest first."""
    request = pb.ListDocumentsRequest(tenant_id=principal.tenant_id, knowledge_base_id=kb_id)
    response = await retriever.call(retriever.stub.ListDocuments, request)
    return _json(obj.listing([obj.document(d) for d in response.documents]))


@router.get("/{kb_id}/documents/{document_id}", summary="Retrieve a document")
async def get_document(
    kb_id: str, document_id: str, principal: CurrentPrincipal, retriever: Retriever
) -> Response:
    """One document; `status` and `progress` follow its ingestion."""
    request = pb.GetDocumentRequest(tenant_id=principal.tenant_id, knowledge_base_id=kb_id, id=document_id)
    return _json(obj.document((await retriever.call(retriever.stub.GetDocument, request)).document))


@router.delete("/{kb_id}/documents/{document_id}", summary="Delete a document")
async def delete_document(
    kb_id: str, document_id: str, principal: CurrentPrincipal, retriever: Retriever
) -> Response:
    """Deletes the document and its chunks."""
    request = pb.DeleteDocumentRequest(tenant_id=principal.tenant_id, knowledge_base_id=kb_id, id=document_id)
    response = await retriever.call(retriever.stub.DeleteDocument, request)
    return _json({"id": response.id, "object": "knowledge_base.document.deleted", "deleted": True})


@router.post("/{kb_id}/search", summary="Search a knowledge base")
async def search(kb_id: str, body: SearchBody, principal: CurrentPrincipal, retriever: Retriever) -> Response:
    """The chunks nearest to the query, best first, with their documents and scores."""
    request = pb.SearchRequest(
        tenant_id=principal.tenant_id,
        knowledge_base_ids=[kb_id],
        query=body.query,
        top_k=body.top_k,
        score_threshold=body.score_threshold,
        filter=body.filter,
        document_ids=body.document_ids,
    )
    response = await retriever.call(retriever.stub.Search, request)
    return _json(obj.listing([obj.search_result(h) for h in response.hits], search_query=body.query))
