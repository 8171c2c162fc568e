"""Summaries and time series from the rollups: whole days from the daily rows, the rest from hourly.

The SQL sums counters and histogram buckets per group; the few groups that come back are merged here
(numpy) when a window needs both levels, and turned into measures (percentiles from the histograms).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from tuneway.analytics.repository import rollups
from tuneway.core.errors import InvalidArgumentError

_AT = {name: index for index, name in enumerate(ADDITIVE)}
_LATENCY = slice(_AT[LATENCY_COLUMNS[0]], _AT[LATENCY_COLUMNS[-1]] + 1)
_TTFT = slice(_AT[TTFT_COLUMNS[0]], _AT[TTFT_COLUMNS[-1]] + 1)
Group = tuple[Any, ...]
# (period of the rows read, [start, end) of their bucket starts)
Part = tuple[int, int, int]


def plan(from_ms: int, to_ms: int) -> list[Part]:
    """Which rollup rows cover [from, to) widened to whole hours (from down, to up, so "until now"
    includes the current hour): daily rows for whole days inside, hourly rows before and after them."""
    start = from_ms - from_ms % HOUR_MS
    end = max(-(-to_ms // HOUR_MS) * HOUR_MS, start + HOUR_MS)
    first_day = -(-start // DAY_MS) * DAY_MS
    last_day = end - end % DAY_MS
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
    """Answers GetSummary and GetTimeseries from the rollups."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def summary(self, query: Slice) -> Summary:
        totals = _Totals()
        group_by = list(query.group_by)
        async with self._sessions() as session:
            for period, start, end in plan(query.window.from_ms, query.window.to_ms):
                await self._read(session, totals, query, period, start, end, group_by)
        rows = [
            SummaryRow(dict(zip(group_by, group, strict=True)), totals.measures(group))
            for group in sorted(totals.values)
        ]
        return Summary(rows=rows if group_by else [], total=totals.total())

    async def timeseries(self, query: Slice, interval: str) -> list[TimeseriesPoint]:
        if interval not in INTERVALS:
            raise InvalidArgumentError("interval must be 'hour' or 'day'.", param="interval")
        bucket_ms = INTERVALS[interval]
        totals = _Totals()
        group_by = ["bucket_start_ms", *query.group_by]

        def to_bucket(group: Group) -> Group:
            return (group[0] - group[0] % bucket_ms, *group[1:])

        async with self._sessions() as session:
            parts = plan(query.window.from_ms, query.window.to_ms)
            if bucket_ms == HOUR_MS:
                parts = [(HOUR_MS, parts[0][1], parts[-1][2])]
            for period, start, end in parts:
                await self._read(session, totals, query, period, start, end, group_by, to_bucket)
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
        period: int,
        start: int,
        end: int,
        group_by: list[str],
        regroup: Any = None,
    ) -> None:
        args = (session, query.tenant_id, period, start, end, group_by, query.filters)
        totals.add_rows(await rollups.sums(*args), len(group_by), regroup)
        totals.add_errors(await rollups.error_sums(*args), len(group_by), regroup)
