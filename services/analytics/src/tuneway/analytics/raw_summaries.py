"""Summaries and time series straight from the raw events, for what no rollup set keeps.

A query whose group_by and filters together name three or more dimensions, or kind or endpoint, is
answered here: counters and errors by SQL GROUP BY over the events' dimension columns, latency and
time-to-first-token histograms built in numpy from the events' own columns (the same buckets as the
rollups), feedback from the feedback table joined on the completion id. Raw events are kept only for
the raw retention (AnalyticsSettings.raw_retention_days), so these answers cover only that far back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from tuneway.analytics.feedback_value import contribution_of
from tuneway.analytics.histogram import BUCKETS, buckets_of
from tuneway.analytics.models import ADDITIVE, LATENCY_COLUMNS, TTFT_COLUMNS
from tuneway.analytics.repository import event_sums

_AT = {name: index for index, name in enumerate(ADDITIVE)}
# The counters event_sums.counters returns, in its order.
_COUNTED = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "no_answer_count",
    "knowledge_requests",
    "human_request_count",
)
Group = tuple[Any, ...]


class RawTotals:
    """Per group: a vector in ADDITIVE's order (as the rollups' sums) and the errors by code."""

    def __init__(self) -> None:
        self.values: dict[Group, npt.NDArray[np.float64]] = {}
        self.errors: dict[Group, dict[str, int]] = {}

    def _vector(self, group: Group) -> npt.NDArray[np.float64]:
        if group not in self.values:
            self.values[group] = np.zeros(len(ADDITIVE))
        return self.values[group]

    async def read(
        self,
        session: AsyncSession,
        tenant_id: str,
        window: tuple[int, int],
        keys: Sequence[str],
        bucket_ms: int,
        filters: Mapping[str, str],
        human_type: str,
    ) -> None:
        width = len(keys)
        args = (session, tenant_id, window, keys, bucket_ms, filters)
        for row in await event_sums.counters(*args, human_type):
            vector = self._vector(tuple(row[:width]))
            for name, value in zip(_COUNTED, row[width:], strict=True):
                vector[_AT[name]] += float(value or 0)
        for row in await event_sums.errors(*args):
            codes = self.errors.setdefault(tuple(row[:width]), {})
            codes[row[width]] = codes.get(row[width], 0) + int(row[width + 1])
        self._add_histograms(await event_sums.durations(*args), width)
        for row in await event_sums.judgements(*args):
            delta = contribution_of(row[width], row[width + 1], row[width + 2])
            vector = self._vector(tuple(row[:width]))
            vector[_AT["feedback_count"]] += delta.feedback_count
            vector[_AT["positive_count"]] += delta.positive_count
            vector[_AT["score_count"]] += delta.score_count
            vector[_AT["score_sum"]] += delta.score_sum

    def _add_histograms(self, rows: Sequence[Any], width: int) -> None:
        if not rows:
            return
        number: dict[Group, int] = {}
        codes = np.fromiter(
            (number.setdefault(tuple(row[:width]), len(number)) for row in rows), np.int64, len(rows)
        )
        latency = np.fromiter((row[width] for row in rows), np.float64, len(rows))
        ttft = np.fromiter((row[width + 1] for row in rows), np.float64, len(rows))
        size = len(number) * BUCKETS
        latency_counts = np.bincount(codes * BUCKETS + buckets_of(latency), minlength=size)
        ttft_counts = np.bincount(codes * BUCKETS + buckets_of(ttft), weights=ttft > 0, minlength=size)
        first_latency, first_ttft = _AT[LATENCY_COLUMNS[0]], _AT[TTFT_COLUMNS[0]]
        for group, code in number.items():
            vector = self._vector(group)
            vector[first_latency : first_latency + BUCKETS] += latency_counts[
                code * BUCKETS : (code + 1) * BUCKETS
            ]
            vector[first_ttft : first_ttft + BUCKETS] += ttft_counts[code * BUCKETS : (code + 1) * BUCKETS]
