"""GET /v1/analytics/summary, /timeseries and /events, and /v1/experiments/{id}/results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from tuneway.api.analytics.v1 import analytics_pb2 as apb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.analytics.report_query import (
    check_known,
    query_parameter,
    report_parameters,
    report_query,
)
from tuneway.gateway.analytics.responses import (
    EventPage,
    ExperimentResults,
    Summary,
    Timeseries,
    event_page,
    experiment_results,
    report_csv,
    summary_object,
    timeseries_object,
)
from tuneway.gateway.deps import Analytics, CurrentPrincipal, Prompts
from tuneway.gateway.http import json_response
from tuneway.gateway.openapi import UPSTREAM, documented

router = APIRouter(prefix="/v1", tags=["analytics"])

_FORMAT = query_parameter(
    "format", "json (default) or csv (also chosen by Accept: text/csv).", {"enum": ["json", "csv"]}
)
_INTERVAL = query_parameter("interval", "Bucket size, UTC.", {"enum": ["hour", "day"], "default": "day"})
_LIMIT = query_parameter("limit", "Events per page, 1..1000.", {"type": "integer", "default": 100})
_AFTER = query_parameter("after", "`next_cursor` of the previous page.", {"type": "string"})
_CSV_DOC = {"text/csv": {"schema": {"type": "string"}}}


def _wants_csv(request: Request) -> bool:
    fmt = request.query_params.get("format")
    if fmt not in (None, "json", "csv"):
        raise InvalidArgumentError("'format' must be json or csv.", param="format", code="invalid_value")
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _csv_response(rows: list[dict[str, Any]], group_by: list[str], name: str) -> Response:
    return Response(
        report_csv(rows, group_by),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _with_csv(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    responses[200]["content"] = _CSV_DOC
    return responses


@router.get(
    "/analytics/summary",
    responses=_with_csv(documented(Summary, *UPSTREAM)),
    openapi_extra=report_parameters(_FORMAT),
    summary="Summarize requests, errors, latency and feedback",
)
async def get_summary(request: Request, principal: CurrentPrincipal, analytics: Analytics) -> Response:
    """Measures per group (group_by) over [from, to), with filters by dimension; JSON or CSV."""
    query = report_query(request.query_params, ["format"])
    csv = _wants_csv(request)
    response = await analytics.call(
        analytics.stub.GetSummary,
        apb.GetSummaryRequest(
            tenant_id=principal.tenant_id,
            from_ms=query.from_ms,
            to_ms=query.to_ms,
            group_by=query.group_by,
            filters=query.filters,
        ),
    )
    body = summary_object(response, query)
    if csv:
        return _csv_response(body["data"], query.group_by, "analytics-summary")  # type: ignore[arg-type]
    return json_response(body)


@router.get(
    "/analytics/timeseries",
    responses=_with_csv(documented(Timeseries, *UPSTREAM)),
    openapi_extra=report_parameters(_INTERVAL, _FORMAT),
    summary="The same measures per hour or day",
)
async def get_timeseries(request: Request, principal: CurrentPrincipal, analytics: Analytics) -> Response:
    """Measures per bucket (and group) over [from, to)."""
    query = report_query(request.query_params, ["interval", "format"])
    interval = request.query_params.get("interval", "day")
    if interval not in ("hour", "day"):
        raise InvalidArgumentError("'interval' must be hour or day.", param="interval", code="invalid_value")
    csv = _wants_csv(request)
    response = await analytics.call(
        analytics.stub.GetTimeseries,
        apb.GetTimeseriesRequest(
            tenant_id=principal.tenant_id,
            from_ms=query.from_ms,
            to_ms=query.to_ms,
            interval=interval,
            group_by=query.group_by,
            filters=query.filters,
        ),
    )
    body = timeseries_object(response, query, interval)
    if csv:
        return _csv_response(body["data"], query.group_by, "analytics-timeseries")  # type: ignore[arg-type]
    return json_response(body)


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise InvalidArgumentError(
            "'limit' must be an integer from 1 to 1000.", param="limit", code="invalid_value"
        )
    return int(raw)


@router.get(
    "/analytics/events",
    responses=documented(EventPage, *UPSTREAM),
    openapi_extra=report_parameters(_LIMIT, _AFTER, group_by=False),
    summary="List recorded requests (drill-down)",
)
async def list_events(request: Request, principal: CurrentPrincipal, analytics: Analytics) -> Response:
    """The requests behind a report, newest first, with their query type and feedback; paginated."""
    query = report_query(request.query_params, ["limit", "after"], group_by=False)
    response = await analytics.call(
        analytics.stub.ListEvents,
        apb.ListEventsRequest(
            tenant_id=principal.tenant_id,
            from_ms=query.from_ms,
            to_ms=query.to_ms,
            filters=query.filters,
            limit=_limit(request),
            cursor=request.query_params.get("after", ""),
        ),
    )
    return json_response(event_page(response))


_MIN_SAMPLE = query_parameter(
    "min_sample",
    "Feedback per arm before comparisons are reported (default: the service's).",
    {"type": "integer"},
)


@router.get(
    "/experiments/{experiment_id}/results",
    responses=documented(ExperimentResults, 404, *UPSTREAM),
    openapi_extra={"parameters": [_MIN_SAMPLE]},
    summary="An experiment's results",
)
async def get_experiment_results(
    experiment_id: Annotated[str, Path()],
    request: Request,
    principal: CurrentPrincipal,
    prompts: Prompts,
    analytics: Analytics,
) -> Response:
    """Each arm's exposures, feedback and latency, each arm against the control (the first variant) with
    p-values, always-valid intervals and the chance to beat it, the sample-ratio check and the leader."""
    check_known(request.query_params.keys(), ["min_sample"])
    raw = request.query_params.get("min_sample", "0")
    if not raw.isdigit() or int(raw) > 1_000_000:
        raise InvalidArgumentError(
            "'min_sample' must be a non-negative integer.", param="min_sample", code="invalid_value"
        )
    found = await prompts.call(
        prompts.stub.GetExperiment, ppb.GetExperimentRequest(tenant_id=principal.tenant_id, id=experiment_id)
    )
    variants = found.experiment.variants
    response = await analytics.call(
        analytics.stub.GetExperimentResults,
        apb.GetExperimentResultsRequest(
            tenant_id=principal.tenant_id,
            experiment_id=experiment_id,
            arms=[apb.ExperimentArm(name=v.name, weight=v.weight) for v in variants],
            control=variants[0].name if variants else "",
            min_sample=int(raw),
        ),
    )
    return json_response(experiment_results(response))
