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
    # How often the retention task looks for expired raw events.
    retention_interval_seconds: float = 3600.0
    # How often closed days' hourly rollups are folded into daily rows, and how long after its end a day
    # is folded (a later event for it still counts: it adds to the daily row as well).
    rollup_fold_interval_seconds: float = 300.0
    rollup_fold_grace_seconds: float = 600.0
    # Messages one pull fetches at most; they are written in one transaction, then acknowledged. Large:
    # a batch's rollup rows grow more slowly than its events, above all with many tenants, each with
    # few events per batch (bench/analytics_store_bench.py: 20 tenants ingest at 2x the rate of 5,000).
    batch_size: int = 20_000
    # How long one pull waits for messages before the loop looks again (and notices a stop); a pull
    # returns what is there without waiting for a full batch, so low traffic still lands quickly.
    fetch_timeout_seconds: float = 0.5
    # Unacknowledged messages come back after this; generous, so a slow retriever does not cause
    # redeliveries of batches still being written.
    ack_wait_seconds: float = 120.0
    # After a failed batch (retriever or database down) the loop waits this long, doubling up to the max.
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 15.0
    # Below this cosine similarity to every type's centroid a query is "other"; calibrated on the held-out
    # labelled set (bench/query_type_accuracy.py: accuracy 0.90 at 0.30, 0.75 at 0.45).
    classification_threshold: float = 0.30
    # Feedback per arm before experiment comparisons are reported (when a request asks for 0).
    min_sample_default: int = 100
    # How often the consumer's pending count (tuneway_analytics_consumer_pending) is refreshed.
    pending_refresh_seconds: float = 5.0
