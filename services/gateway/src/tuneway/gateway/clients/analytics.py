"""gRPC client of the analytics service: summaries, time series, drill-down, experiment results, query
types and settings."""

from __future__ import annotations

from tuneway.api.analytics.v1 import analytics_pb2_grpc
from tuneway.gateway.clients.base import ServiceClient


class AnalyticsClient(ServiceClient[analytics_pb2_grpc.AnalyticsServiceStub]):
    """AnalyticsService with the default deadline on every call."""

    def __init__(self, target: str, rpc_timeout: float) -> None:
        super().__init__(target, "analytics", rpc_timeout, analytics_pb2_grpc.AnalyticsServiceStub)
