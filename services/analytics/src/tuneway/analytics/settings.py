"""Settings of the analytics service (env prefix ANALYTICS_)."""

from __future__ import annotations

from tuneway.core.settings import DatabaseSettings, GrpcServiceSettings, service_config


class AnalyticsSettings(GrpcServiceSettings, DatabaseSettings):
    """Serving, store, ingestion and classification."""

    model_config = service_config("ANALYTICS_")
    database_name = "analytics"

    grpc_port: int = 50055
    metrics_port: int = 9105
    # The retriever whose embedder classifies query types (no second copy of MiniLM here).
    retriever_target: str = "127.0.0.1:50052"
    # Raw events older than this are deleted (rollups stay); 0 keeps them forever.
    raw_retention_days: int = 30
