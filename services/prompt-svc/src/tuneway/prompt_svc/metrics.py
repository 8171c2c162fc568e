"""Prometheus metrics of the prompt service."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from tuneway.core.metrics import LATENCY_BUCKETS

RENDERS = Counter(
    "tuneway_prompt_svc_renders_total",
    "Renders by outcome (ok, invalid, not_found, error) and kind (assistant, prompt)",
    ["outcome", "kind"],
)
RENDER_SECONDS = Histogram(
    "tuneway_prompt_svc_render_seconds", "Time to resolve and render one request", buckets=LATENCY_BUCKETS
)
CACHE_LOOKUPS = Counter("tuneway_prompt_svc_cache_lookups_total", "Render-path cache lookups", ["result"])
INVALIDATIONS = Counter(
    "tuneway_prompt_svc_invalidations_total",
    "Cache invalidations by direction (sent, received)",
    ["direction"],
)
LANGUAGE_DETECTIONS = Counter(
    "tuneway_prompt_svc_language_detections_total", "Detected languages (unknown: no answer)", ["language"]
)
