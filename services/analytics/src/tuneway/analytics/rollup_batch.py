"""Accumulates one ingest batch's additions to the hourly and daily rollups before one upsert."""

from __future__ import annotations

from collections import defaultdict

from tuneway.analytics.dimensions import knowledge_ran
from tuneway.analytics.domain import DAY_MS, HOUR_MS
from tuneway.analytics.feedback_value import FeedbackContribution
from tuneway.analytics.histogram import bucket_of
from tuneway.analytics.models import ADDITIVE, LATENCY_COLUMNS, TTFT_COLUMNS
from tuneway.analytics.repository.rollups import RollupKey
from tuneway.api.events.v1 import events_pb2

_AT = {name: index for index, name in enumerate(ADDITIVE)}
_LATENCY0 = _AT[LATENCY_COLUMNS[0]]
_TTFT0 = _AT[TTFT_COLUMNS[0]]
PERIODS = (HOUR_MS, DAY_MS)


def rollup_keys(tenant_id: str, created_at_ms: int, dims: tuple[str, ...]) -> list[RollupKey]:
    """The hourly and the daily row an event at `created_at_ms` belongs to."""
    return [(tenant_id, period, created_at_ms - created_at_ms % period, *dims) for period in PERIODS]


class RollupBatch:
    """Deltas per rollup row (values in ADDITIVE's order) and errors per row and code."""

    def __init__(self) -> None:
        self.deltas: dict[RollupKey, list[float]] = defaultdict(lambda: [0] * len(ADDITIVE))
        self.errors: dict[tuple[RollupKey, str], int] = defaultdict(int)

    def add_event(
        self, event: events_pb2.CompletionEvent, dims: tuple[str, ...], is_human_request: bool
    ) -> None:
        latency, ttft = bucket_of(event.latency_ms), bucket_of(event.time_to_first_token_ms)
        failed = event.status == "error"
        for key in rollup_keys(event.tenant_id, event.created_at_ms, dims):
            values = self.deltas[key]
            values[_AT["requests"]] += 1
            values[_AT["prompt_tokens"]] += event.prompt_tokens
            values[_AT["completion_tokens"]] += event.completion_tokens
            values[_LATENCY0 + latency] += 1
            if event.time_to_first_token_ms > 0:
                values[_TTFT0 + ttft] += 1
            if failed:
                values[_AT["errors"]] += 1
                self.errors[(key, event.error_code or "unknown")] += 1
            if knowledge_ran(event):
                values[_AT["knowledge_requests"]] += 1
                values[_AT["no_answer_count"]] += int(event.knowledge_no_answer)
            if is_human_request:
                values[_AT["human_request_count"]] += 1

    def add_feedback(
        self, tenant_id: str, created_at_ms: int, dims: tuple[str, ...], delta: FeedbackContribution
    ) -> None:
        if delta.is_zero:
            return
        for key in rollup_keys(tenant_id, created_at_ms, dims):
            values = self.deltas[key]
            values[_AT["feedback_count"]] += delta.feedback_count
            values[_AT["positive_count"]] += delta.positive_count
            values[_AT["score_count"]] += delta.score_count
            values[_AT["score_sum"]] += delta.score_sum
