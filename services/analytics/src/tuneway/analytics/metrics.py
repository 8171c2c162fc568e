"""The analytics service's Prometheus metrics (names are a contract with the Grafana dashboards).

Labels whose values come from tenants (assistants, prompt versions, channels...) go through a
BoundedLabel each, so a tenant cannot grow the series without end.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from tuneway.analytics.dimensions import knowledge_ran, prompt_version
from tuneway.analytics.domain import FeedbackRecord
from tuneway.analytics.feedback_value import sentiment
from tuneway.analytics.ingest import IngestResult
from tuneway.core.metrics import LATENCY_BUCKETS, BoundedLabel

EVENTS_INGESTED = Counter("tuneway_analytics_events_ingested_total", "Events newly stored", ["type"])
EVENTS_DUPLICATE = Counter(
    "tuneway_analytics_events_duplicate_total",
    "Events already stored (redelivered or re-published)",
    ["type"],
)
BATCH_SIZE = Histogram(
    "tuneway_analytics_ingest_batch_size",
    "Messages per ingested batch",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000),
)
INGEST_SECONDS = Histogram(
    "tuneway_analytics_ingest_seconds", "One batch: classification and commit", buckets=LATENCY_BUCKETS
)
INGEST_LAG = Gauge(
    "tuneway_analytics_ingest_lag_seconds", "Now minus created_at of the newest event just committed"
)
CONSUMER_PENDING = Gauge("tuneway_analytics_consumer_pending", "Messages of EVENTS not yet delivered")
CLASSIFICATION_SECONDS = Histogram(
    "tuneway_analytics_classification_seconds", "Classifying one batch's messages", buckets=LATENCY_BUCKETS
)
COMPLETIONS = Counter(
    "tuneway_analytics_completions_total",
    "Completion events",
    ["endpoint", "kind", "status", "query_type", "channel", "language"],
)
CUSTOMISATION_REQUESTS = Counter(
    "tuneway_analytics_customisation_requests_total",
    "Completion events by the customisation that served them",
    ["assistant", "prompt_version", "variant", "adapter"],
)
FEEDBACK = Counter(
    "tuneway_analytics_feedback_total",
    "Feedback submissions (the latest per completion and user)",
    ["assistant", "prompt_version", "variant", "adapter", "sentiment"],
)
KNOWLEDGE_ANSWERS = Counter(
    "tuneway_analytics_knowledge_answers_total",
    "Assistant requests whose knowledge step ran, by outcome",
    ["outcome"],
)

_bounded = {
    name: BoundedLabel(limit)
    for name, limit in {
        "endpoint": 10,
        "kind": 10,
        "status": 10,
        "query_type": 50,
        "channel": 20,
        "language": 50,
        "assistant": 50,
        "prompt_version": 100,
        "variant": 50,
        "adapter": 50,
    }.items()
}


def _label(name: str, value: str) -> str:
    return _bounded[name](value)


def record_batch(result: IngestResult) -> None:
    """Counts what one committed batch stored (each event once: only newly inserted ones)."""
    EVENTS_INGESTED.labels("completion").inc(len(result.new_completions))
    EVENTS_INGESTED.labels("feedback").inc(len(result.new_feedback))
    EVENTS_DUPLICATE.labels("completion").inc(result.duplicate_completions)
    EVENTS_DUPLICATE.labels("feedback").inc(result.duplicate_feedback)
    for completion in result.new_completions:
        event = completion.event
        COMPLETIONS.labels(
            _label("endpoint", event.endpoint),
            _label("kind", event.kind),
            _label("status", event.status),
            _label("query_type", completion.query_type),
            _label("channel", event.channel),
            _label("language", event.language),
        ).inc()
        CUSTOMISATION_REQUESTS.labels(
            _label("assistant", event.assistant),
            _label("prompt_version", prompt_version(event)),
            _label("variant", event.variant),
            _label("adapter", event.adapter),
        ).inc()
        if event.kind == "assistant" and knowledge_ran(event):
            KNOWLEDGE_ANSWERS.labels("no_answer" if event.knowledge_no_answer else "answered").inc()
    for record, dims in result.new_feedback:
        _record_feedback(record, dims)


def _record_feedback(record: FeedbackRecord, dims: tuple[str, ...] | None) -> None:
    # dims in DIMENSIONS' order; feedback whose completion is not stored yet has none.
    adapter, assistant, version, variant = (dims[4], dims[5], dims[6], dims[7]) if dims else ("", "", "", "")
    FEEDBACK.labels(
        _label("assistant", assistant),
        _label("prompt_version", version),
        _label("variant", variant),
        _label("adapter", adapter),
        sentiment(record),
    ).inc()
