"""GET /v1/audit (tuneway's): the caller's tenant's audit log, newest first, as OpenAI's cursor page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from tuneway.gateway.audit.responses import AuditEntryObject, audit_entry_object
from tuneway.gateway.audit.service import MAX_LIST_LIMIT
from tuneway.gateway.deps import AuditTrail, CurrentPrincipal
from tuneway.gateway.http import Page, json_response, page
from tuneway.gateway.openapi import documented

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", responses=documented(Page[AuditEntryObject]), summary="List audit log entries")
async def list_audit_entries(
    principal: CurrentPrincipal,
    audit: AuditTrail,
    after: Annotated[str | None, Query(description="The id of the last entry of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 20,
    resource_type: Annotated[str | None, Query(description="Only entries of this type (`prompt`).")] = None,
    resource_id: Annotated[str | None, Query(description="Only entries of this resource.")] = None,
    action: Annotated[str | None, Query(description="Only entries of this action.")] = None,
) -> Response:
    """Changes to what the tenant's users get (prompts, experiments, assistants, aliases, adapters,
    schedules, knowledge, keys): the actor's key, the time, and the resource before and after."""
    rows, has_more = await audit.list(
        principal.tenant_id,
        after=after,
        limit=limit,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
    )
    return json_response(page([audit_entry_object(r) for r in rows], has_more))
