"""/v1/batches (OpenAI-compatible): create, retrieve, list, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from tuneway.gateway.batches.responses import BatchObject, batch_object
from tuneway.gateway.batches.schemas import CreateBatchBody
from tuneway.gateway.batches.service import MAX_LIST_LIMIT
from tuneway.gateway.deps import Batches, CurrentPrincipal
from tuneway.gateway.http import Page, json_response, page
from tuneway.gateway.openapi import documented

router = APIRouter(prefix="/v1/batches", tags=["batches"])


@router.post("", responses=documented(BatchObject), summary="Create a batch")
async def create_batch(body: CreateBatchBody, principal: CurrentPrincipal, batches: Batches) -> Response:
    """Queues the requests of a `batch` JSONL file for a batch worker; answers at once (`validating`)."""
    return json_response(batch_object(await batches.create(principal, body)))


@router.get("", responses=documented(Page[BatchObject]), summary="List batches")
async def list_batches(
    principal: CurrentPrincipal,
    batches: Batches,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 20,
) -> Response:
    """The tenant's batches, newest first, as OpenAI's cursor page."""
    rows, has_more = await batches.list(principal.tenant_id, after=after, limit=limit)
    return json_response(page([batch_object(r) for r in rows], has_more))


@router.get("/{batch_id}", responses=documented(BatchObject, 404), summary="Retrieve a batch")
async def retrieve_batch(batch_id: str, principal: CurrentPrincipal, batches: Batches) -> Response:
    """One batch with its status and request_counts; another tenant's is 404 like a missing one."""
    return json_response(batch_object(await batches.get(principal.tenant_id, batch_id)))


@router.post("/{batch_id}/cancel", responses=documented(BatchObject, 404, 409), summary="Cancel a batch")
async def cancel_batch(batch_id: str, principal: CurrentPrincipal, batches: Batches) -> Response:
    """Stops the batch taking new lines (`cancelling`); it ends `cancelled` with the results so far."""
    return json_response(batch_object(await batches.cancel(principal.tenant_id, batch_id)))
