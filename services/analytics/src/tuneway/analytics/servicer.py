"""AnalyticsService over gRPC: translates requests to the service's calls and results to responses."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from tuneway.analytics import convert
from tuneway.analytics.domain import Slice, TenantSettings, Window
from tuneway.analytics.service import AnalyticsService
from tuneway.api.analytics.v1 import analytics_pb2 as pb
from tuneway.api.analytics.v1 import analytics_pb2_grpc

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(self, service: AnalyticsService) -> None:
        self._service = service

    async def GetSummary(self, request: pb.GetSummaryRequest, context: Context) -> pb.GetSummaryResponse:
        query = Slice(
            request.tenant_id,
            Window(request.from_ms, request.to_ms),
            tuple(request.group_by),
            dict(request.filters),
        )
        summary = await self._service.summary(query)
        return pb.GetSummaryResponse(
            rows=[
                pb.SummaryRow(group=row.group, measures=convert.measures(row.measures))
                for row in summary.rows
            ],
            total=convert.measures(summary.total),
        )

    async def GetTimeseries(
        self, request: pb.GetTimeseriesRequest, context: Context
    ) -> pb.GetTimeseriesResponse:
        query = Slice(
            request.tenant_id,
            Window(request.from_ms, request.to_ms),
            tuple(request.group_by),
            dict(request.filters),
        )
        points = await self._service.timeseries(query, request.interval)
        return pb.GetTimeseriesResponse(
            points=[
                pb.TimeseriesPoint(
                    bucket_start_ms=p.bucket_start_ms, group=p.group, measures=convert.measures(p.measures)
                )
                for p in points
            ]
        )

    async def ListEvents(self, request: pb.ListEventsRequest, context: Context) -> pb.ListEventsResponse:
        page = await self._service.events(
            request.tenant_id,
            Window(request.from_ms, request.to_ms),
            dict(request.filters),
            request.limit,
            request.cursor,
        )
        return pb.ListEventsResponse(
            events=[convert.stored_event(e) for e in page.events],
            has_more=page.has_more,
            next_cursor=page.next_cursor,
        )

    async def GetExperimentResults(
        self, request: pb.GetExperimentResultsRequest, context: Context
    ) -> pb.GetExperimentResultsResponse:
        results = await self._service.experiment_results(
            request.tenant_id,
            request.experiment_id,
            [(arm.name, arm.weight) for arm in request.arms],
            request.control,
            request.min_sample,
        )
        return convert.experiment_results(results)

    async def ListQueryTypes(
        self, request: pb.ListQueryTypesRequest, context: Context
    ) -> pb.ListQueryTypesResponse:
        types = await self._service.query_types(request.tenant_id)
        return pb.ListQueryTypesResponse(
            query_types=[convert.query_type(t) for t in types], threshold=self._service.threshold
        )

    async def PutQueryType(
        self, request: pb.PutQueryTypeRequest, context: Context
    ) -> pb.PutQueryTypeResponse:
        stored = await self._service.put_query_type(request.tenant_id, request.name, list(request.examples))
        return pb.PutQueryTypeResponse(query_type=convert.query_type(stored))

    async def DeleteQueryType(
        self, request: pb.DeleteQueryTypeRequest, context: Context
    ) -> pb.DeleteQueryTypeResponse:
        await self._service.delete_query_type(request.tenant_id, request.name)
        return pb.DeleteQueryTypeResponse()

    async def ClassifyQueries(
        self, request: pb.ClassifyQueriesRequest, context: Context
    ) -> pb.ClassifyQueriesResponse:
        results = await self._service.classify(request.tenant_id, list(request.texts))
        return pb.ClassifyQueriesResponse(
            classifications=[
                pb.Classification(query_type=r.query_type, similarity=r.similarity) for r in results
            ]
        )

    async def GetSettings(self, request: pb.GetSettingsRequest, context: Context) -> pb.GetSettingsResponse:
        value = await self._service.settings(request.tenant_id)
        return pb.GetSettingsResponse(
            settings=pb.AnalyticsSettings(keep_message_text=value.keep_message_text)
        )

    async def UpdateSettings(
        self, request: pb.UpdateSettingsRequest, context: Context
    ) -> pb.UpdateSettingsResponse:
        value = await self._service.update_settings(
            request.tenant_id, TenantSettings(keep_message_text=request.settings.keep_message_text)
        )
        return pb.UpdateSettingsResponse(
            settings=pb.AnalyticsSettings(keep_message_text=value.keep_message_text)
        )
