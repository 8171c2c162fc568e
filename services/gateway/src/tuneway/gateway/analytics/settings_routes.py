"""/v1/analytics/settings and /v1/analytics/query_types: what the tenant keeps and how it classifies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from tuneway.api.analytics.v1 import analytics_pb2 as apb
from tuneway.gateway.analytics.responses import (
    AnalyticsSettingsObject,
    QueryTypeList,
    QueryTypeObject,
    query_type_list,
    query_type_object,
    settings_object,
)
from tuneway.gateway.analytics.schemas import QueryTypeBody, SettingsBody
from tuneway.gateway.deps import Analytics, CurrentPrincipal
from tuneway.gateway.http import Deleted, deleted, json_response
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
QueryTypeName = Annotated[str, Path(min_length=1, max_length=64)]


@router.get(
    "/settings", responses=documented(AnalyticsSettingsObject, *UPSTREAM), summary="Analytics settings"
)
async def get_settings(principal: CurrentPrincipal, analytics: Analytics) -> Response:
    """Whether the last user message of each request is kept (PII-scrubbed) for drill-down."""
    response = await analytics.call(
        analytics.stub.GetSettings, apb.GetSettingsRequest(tenant_id=principal.tenant_id)
    )
    return json_response(settings_object(response.settings))


@router.put(
    "/settings", responses=documented(AnalyticsSettingsObject, *UPSTREAM), summary="Change analytics settings"
)
async def update_settings(body: SettingsBody, principal: CurrentPrincipal, analytics: Analytics) -> Response:
    """Keeps (or stops keeping) message text from now on."""
    request = apb.UpdateSettingsRequest(
        tenant_id=principal.tenant_id,
        settings=apb.AnalyticsSettings(keep_message_text=body.keep_message_text),
    )
    response = await analytics.call(analytics.stub.UpdateSettings, request)
    return json_response(settings_object(response.settings))


@router.get("/query_types", responses=documented(QueryTypeList, *UPSTREAM), summary="List query types")
async def list_query_types(principal: CurrentPrincipal, analytics: Analytics) -> Response:
    """The default taxonomy and the tenant's own types (which replace a default of the same name)."""
    response = await analytics.call(
        analytics.stub.ListQueryTypes, apb.ListQueryTypesRequest(tenant_id=principal.tenant_id)
    )
    return json_response(query_type_list(response))


@router.put(
    "/query_types/{name}",
    responses=documented(QueryTypeObject, *UPSTREAM),
    summary="Create or replace a query type",
)
async def put_query_type(
    name: QueryTypeName, body: QueryTypeBody, principal: CurrentPrincipal, analytics: Analytics
) -> Response:
    """A query type of the tenant's, described by example utterances; later requests are classified
    with it."""
    request = apb.PutQueryTypeRequest(tenant_id=principal.tenant_id, name=name, examples=body.examples)
    response = await analytics.call(analytics.stub.PutQueryType, request)
    return json_response(query_type_object(response.query_type))


@router.delete(
    "/query_types/{name}", responses=documented(Deleted, 404, *UPSTREAM), summary="Delete a query type"
)
async def delete_query_type(
    name: QueryTypeName, principal: CurrentPrincipal, analytics: Analytics
) -> Response:
    """Removes the tenant's type (a replaced default comes back)."""
    request = apb.DeleteQueryTypeRequest(tenant_id=principal.tenant_id, name=name)
    await analytics.call(analytics.stub.DeleteQueryType, request)
    return json_response(deleted(name, "analytics.query_type"))
