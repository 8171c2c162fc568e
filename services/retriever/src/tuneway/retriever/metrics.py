"""Prometheus metrics of the retriever."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from tuneway.core.metrics import LATENCY_BUCKETS

CHUNKS_INGESTED = Counter("tuneway_retriever_chunks_ingested_total", "Chunks embedded and written")
INGESTIONS = Counter(
    "tuneway_retriever_ingestions_total",
    "Document ingestions by outcome (completed, failed, superseded)",
    ["outcome"],
)
SEARCH_SECONDS = Histogram(
    "tuneway_retriever_search_seconds", "Time to embed a query and search", buckets=LATENCY_BUCKETS
)
EMBEDDED_TEXTS = Counter("tuneway_retriever_embedded_texts_total", "Texts embedded for the Embed RPC")
