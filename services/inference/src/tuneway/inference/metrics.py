"""Prometheus metrics of the inference service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from tuneway.core.metrics import LATENCY_BUCKETS

REQUESTS = Counter(
    "tuneway_inference_requests_total",
    "Generations by outcome (finished, cancelled, error) and model kind (base, adapter)",
    ["outcome", "kind"],
)
TOKENS = Counter("tuneway_inference_tokens_total", "Tokens processed", ["type"])
TIME_TO_FIRST_TOKEN = Histogram(
    "tuneway_inference_time_to_first_token_seconds", "From request to first token", buckets=LATENCY_BUCKETS
)
LATENCY = Histogram("tuneway_inference_request_seconds", "Whole generation time", buckets=LATENCY_BUCKETS)
IN_FLIGHT = Gauge("tuneway_inference_requests_in_flight", "Generations running now")
LOADED_ADAPTERS = Gauge("tuneway_inference_loaded_adapters", "LoRA adapters registered in the engine")
ADAPTER_EVENTS = Counter(
    "tuneway_inference_adapter_events_total", "Adapter reconciliation outcomes", ["action", "outcome"]
)
