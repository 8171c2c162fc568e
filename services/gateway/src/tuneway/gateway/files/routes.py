"""/v1/files (OpenAI-compatible) and /v1/files/{file_id}/validation (tuneway extension)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse, Response

from tuneway.api.trainer.v1 import trainer_pb2 as tpb
from tuneway.gateway.deps import CurrentPrincipal, Files, Trainer
from tuneway.gateway.files.responses import FileObject, file_object
from tuneway.gateway.files.service import MAX_LIST_LIMIT, PURPOSES
from tuneway.gateway.fine_tuning.responses import ValidationReport, report_object
from tuneway.gateway.fine_tuning.schemas import Cleaning
from tuneway.gateway.http import Deleted, Page, deleted, json_response, page
from tuneway.gateway.openapi import UPSTREAM, documented, errors, form_body

router = APIRouter(prefix="/v1/files", tags=["files"])

# The upload is parsed as a stream (not by FastAPI), so its form is described for the docs here.
# The bytes as uploaded; FileResponse (no JSON) keeps FastAPI from documenting a JSON body too.
_FILE_CONTENT = {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
_UPLOAD_BODY = form_body(["file", "purpose"], {"purpose": {"type": "string", "enum": list(PURPOSES)}})


@router.post(
    "", summary="Upload a file", responses=documented(FileObject, *UPSTREAM), openapi_extra=_UPLOAD_BODY
)
async def upload_file(request: Request, principal: CurrentPrincipal, files: Files) -> Response:
    """Streams the file into the artifact store (sha256 and size limit checked as it arrives)."""
    content_type = request.headers.get("content-type", "")
    return json_response(file_object(await files.upload(principal.tenant_id, request.stream(), content_type)))


@router.get("", responses=documented(Page[FileObject]), summary="List files")
async def list_files(
    principal: CurrentPrincipal,
    files: Files,
    purpose: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = MAX_LIST_LIMIT,
    order: Literal["asc", "desc"] = "desc",
) -> Response:
    """The tenant's files, newest first by default, as OpenAI's cursor page."""
    records, has_more = await files.list(
        principal.tenant_id, purpose=purpose, after=after, limit=limit, order=order
    )
    return json_response(page([file_object(r) for r in records], has_more))


@router.get("/{file_id}", responses=documented(FileObject, 404), summary="Retrieve a file")
async def retrieve_file(file_id: str, principal: CurrentPrincipal, files: Files) -> Response:
    """One file's metadata; another tenant's file is 404 like a missing one."""
    return json_response(file_object(await files.get(principal.tenant_id, file_id)))


@router.get(
    "/{file_id}/content",
    summary="Retrieve file content",
    response_class=FileResponse,
    responses={200: _FILE_CONTENT, **errors(404)},
)
async def file_content(file_id: str, principal: CurrentPrincipal, files: Files) -> Response:
    """The file's bytes as uploaded."""
    path, record = await files.content(principal.tenant_id, file_id)
    return FileResponse(path, media_type="application/octet-stream", filename=record.filename)


@router.delete("/{file_id}", responses=documented(Deleted, 404, *UPSTREAM), summary="Delete a file")
async def delete_file(file_id: str, principal: CurrentPrincipal, files: Files) -> Response:
    """Deletes the bytes and the metadata; a fine-tune file is forgotten by the trainer first."""
    await files.delete(principal.tenant_id, file_id)
    return json_response(deleted(file_id, "file"))


@router.get(
    "/{file_id}/validation",
    responses=documented(ValidationReport, 404, 409, *UPSTREAM),
    summary="Validate a fine-tuning file (tuneway extension)",
)
async def validate_file(
    file_id: str,
    principal: CurrentPrincipal,
    files: Files,
    trainer: Trainer,
    model: str = "",
    scrub_pii: bool = False,
    validation_split: Annotated[float | None, Query(ge=0, le=0.5)] = None,
    n_epochs: Annotated[int | None, Query(ge=1, le=100)] = None,
    batch_size: Annotated[int | None, Query(ge=1, le=256)] = None,
    learning_rate_multiplier: Annotated[float | None, Query(gt=0, le=100)] = None,
) -> Response:
    """Cleans and validates the file with the base model's tokenizer and reports; trains nothing."""
    await files.get_fine_tune(principal.tenant_id, file_id)
    # Given hyperparameters make the report's estimated_steps match a job created with them.
    hyperparameters = tpb.Hyperparameters(
        n_epochs=n_epochs, batch_size=batch_size, learning_rate_multiplier=learning_rate_multiplier
    )
    request = tpb.ValidateDatasetRequest(
        tenant_id=principal.tenant_id,
        file_id=file_id,
        model=model,
        cleaning=Cleaning(scrub_pii=scrub_pii, validation_split=validation_split).to_proto(),
        hyperparameters=hyperparameters,
    )
    return json_response(report_object(await trainer.validate_dataset(request), file_id))
