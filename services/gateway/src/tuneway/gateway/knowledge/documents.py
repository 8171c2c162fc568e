"""A document to add to a knowledge base, from the request: a multipart upload, or JSON naming a file
already uploaded to /v1/files."""

from __future__ import annotations

import json

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.files.service import FileService
from tuneway.gateway.knowledge.schemas import FileDocumentBody


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


async def document_request(
    request: Request, tenant_id: str, kb_id: str, files: FileService, document_id: str = ""
) -> pb.AddDocumentRequest:
    """The AddDocument request from a multipart upload or a JSON body naming a /v1/files id."""
    message = pb.AddDocumentRequest(tenant_id=tenant_id, knowledge_base_id=kb_id, document_id=document_id)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = FileDocumentBody.model_validate_json(await request.body())
        except ValidationError as error:
            first = error.errors()[0]
            param = ".".join(str(p) for p in first["loc"]) or None
            raise InvalidArgumentError(f"Invalid request: {first['msg']}.", param=param) from None
        record = await files.get(tenant_id, body.file_id)
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
