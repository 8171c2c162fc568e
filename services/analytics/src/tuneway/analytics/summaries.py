"""Summaries and time series from the rollups: whole days from the daily rows, the rest from hourly.

A query reads the rollups of the one dimension set equal to its group_by and filters together
(`dimension_sets.py`: totals, each public dimension, each pair), so a 30-day summary grouped by
assistant sums ~30 daily rows per assistant. Days not folded yet (the current one, `rollup_folding.py`)
have hourly rows only, and are read from those. The SQL sums counters and histogram buckets per group; the
few groups that come back are merged here (numpy) when a window needs both levels, and turned into
measures (percentiles from the histograms). A query naming three or more dimensions, or kind or
endpoint, has no set: it is answered from the raw events (`raw_summaries.py`), only as far back as the
raw retention keeps them, and more slowly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.dimension_sets import set_for, value_column
from tuneway.analytics.domain import (
    DAY_MS,
    HOUR_MS,
    INTERVALS,
    Measures,
    Slice,
    Summary,
    SummaryRow,
    TimeseriesPoint,
)
from tuneway.analytics.histogram import percentile
from tuneway.analytics.models import ADDITIVE, COUNTERS, LATENCY_COLUMNS, TTFT_COLUMNS
from tuneway.analytics.query_types.taxonomy import HUMAN
from tuneway.analytics.raw_summaries import RawTotals
from tuneway.analytics.repository import folds, rollups
from tuneway.core.errors import InvalidArgumentError

_AT = {name: index for index, name in enumerate(ADDITIVE)}
_LATENCY = slice(_AT[LATENCY_COLUMNS[0]], _AT[LATENCY_COLUMNS[-1]] + 1)
_TTFT = slice(_AT[TTFT_COLUMNS[0]], _AT[TTFT_COLUMNS[-1]] + 1)
Group = tuple[Any, ...]
# (period of the rows read, [start, end) of their bucket starts)
Part = tuple[int, int, int]


def plan(from_ms: int, to_ms: int, folded_until_ms: int) -> list[Part]:
    """Which rollup rows cover [from, to) widened to whole hours (from down, to up, so "until now"
    includes the current hour): daily rows for whole days inside that are folded (they start before
    `folded_until_ms`, `rollup_folding.py`), hourly rows before and after them."""
    start = from_ms - from_ms % HOUR_MS
    end = max(-(-to_ms // HOUR_MS) * HOUR_MS, start + HOUR_MS)
    first_day = -(-start // DAY_MS) * DAY_MS
    last_day = min(end - end % DAY_MS, folded_until_ms - folded_until_ms % DAY_MS)
    if first_day >= last_day:
        return [(HOUR_MS, start, end)]
    parts = [(HOUR_MS, start, first_day), (DAY_MS, first_day, last_day), (HOUR_MS, last_day, end)]
    return [part for part in parts if part[1] < part[2]]


class _Totals:
    """Sums per group: one vector in ADDITIVE's order and the errors by code."""

    def __init__(self) -> None:
        self.values: dict[Group, npt.NDArray[np.float64]] = {}
        self.errors: dict[Group, dict[str, int]] = defaultdict(dict)

    def add_rows(self, rows: Iterable[Any], width: int, regroup: Any = None) -> None:
        for row in rows:
            group = tuple(row[:width])
            if regroup is not None:
                group = regroup(group)
            vector = np.array([v or 0 for v in row[width:]], dtype=np.float64)
            if group in self.values:
                self.values[group] += vector
            else:
                self.values[group] = vector

    def add_errors(self, rows: Iterable[Any], width: int, regroup: Any = None) -> None:
        for row in rows:
            group = tuple(row[:width])
            if regroup is not None:
                group = regroup(group)
            codes = self.errors[group]
            codes[row[width]] = codes.get(row[width], 0) + int(row[width + 1])

    def add_raw(self, raw: RawTotals, regroup: Any = None) -> None:
        for group, vector in raw.values.items():
            key = regroup(group) if regroup is not None else group
            self.values[key] = self.values[key] + vector if key in self.values else vector
        for group, codes in raw.errors.items():
            key = regroup(group) if regroup is not None else group
            merged = self.errors[key]
            for code, count in codes.items():
                merged[code] = merged.get(code, 0) + count

    def measures(self, group: Group) -> Measures:
        return measures_of(self.values[group], self.errors.get(group, {}))

    def total(self) -> Measures:
        vector = np.zeros(len(ADDITIVE)) if not self.values else np.sum(list(self.values.values()), axis=0)
        codes: dict[str, int] = {}
        for group_codes in self.errors.values():
            for code, count in group_codes.items():
                codes[code] = codes.get(code, 0) + count
        return measures_of(vector, codes)


def measures_of(vector: npt.NDArray[np.float64], errors_by_code: dict[str, int]) -> Measures:
    counters = {name: int(vector[_AT[name]]) for name in COUNTERS}
    score_count = counters["score_count"]
    return Measures(
        **counters,
        errors_by_code=dict(sorted(errors_by_code.items())),
        latency_p50_ms=percentile(vector[_LATENCY], 0.5),
        latency_p95_ms=percentile(vector[_LATENCY], 0.95),
        time_to_first_token_p50_ms=percentile(vector[_TTFT], 0.5),
        mean_score=float(vector[_AT["score_sum"]]) / score_count if score_count else None,
    )


class SummaryReader:
    """Answers GetSummary and GetTimeseries from the rollups (or the raw events, see the module doc);
    `human_type` is the query type that means "asks for a human"."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], human_type: str = HUMAN) -> None:
        self._sessions = sessions
        self._human_type = human_type

    async def summary(self, query: Slice) -> Summary:
        totals = _Totals()
        async with self._sessions() as session:
            parts = plan(query.window.from_ms, query.window.to_ms, await folds.folded_until(session))
            await self._read(session, totals, query, parts, [], DAY_MS)
        rows = [
            SummaryRow(dict(zip(query.group_by, group, strict=True)), totals.measures(group))
            for group in sorted(totals.values)
        ]
        return Summary(rows=rows if query.group_by else [], total=totals.total())

    async def timeseries(self, query: Slice, interval: str) -> list[TimeseriesPoint]:
        if interval not in INTERVALS:
            raise InvalidArgumentError("interval must be 'hour' or 'day'.", param="interval")
        bucket_ms = INTERVALS[interval]
        totals = _Totals()
        async with self._sessions() as session:
            parts = plan(query.window.from_ms, query.window.to_ms, await folds.folded_until(session))
            if bucket_ms == HOUR_MS:
                parts = [(HOUR_MS, parts[0][1], parts[-1][2])]
            await self._read(session, totals, query, parts, ["bucket_start_ms"], bucket_ms)
        return [
            TimeseriesPoint(
                int(group[0]), dict(zip(query.group_by, group[1:], strict=True)), totals.measures(group)
            )
            for group in sorted(totals.values)
        ]

    async def _read(
        self,
        session: AsyncSession,
        totals: _Totals,
        query: Slice,
        parts: list[Part],
        leading: list[str],
        bucket_ms: int,
    ) -> None:
        """Adds the query's groups over `parts` to `totals`; `leading` keys ("bucket_start_ms") come
        first in every group and are truncated to `bucket_ms`."""

        def to_bucket(group: Group) -> Group:
            return (group[0] - group[0] % bucket_ms, *group[1:]) if leading else group

        set_id = set_for([*query.group_by, *query.filters])
        if set_id is None:
            raw = RawTotals()
            window = (parts[0][1], parts[-1][2])
            keys = [*leading, *query.group_by]
            await raw.read(session, query.tenant_id, window, keys, bucket_ms, query.filters, self._human_type)
            totals.add_raw(raw, to_bucket)
            return
        group_by = [*leading, *(value_column(set_id, name) for name in query.group_by)]
        filters = {value_column(set_id, name): value for name, value in query.filters.items()}
        for period, start, end in parts:
            args = (session, query.tenant_id, set_id, period, start, end, group_by, filters)
            totals.add_rows(await rollups.sums(*args), len(group_by), to_bucket)
            totals.add_errors(await rollups.error_sums(*args), len(group_by), to_bucket)
