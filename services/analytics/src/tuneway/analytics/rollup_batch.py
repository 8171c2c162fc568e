"""Turns one ingest batch into its additions to the rollups, vectorised with numpy.

Every completion (and every feedback delta, which is a row with no request) is expanded into the 46
dimension sets at the hour and, for days already folded (`rollup_folding.py`: a late event), at the day
too; the hours of the open days are folded into daily rows later, by the folding job. At each level
the dimension values are dictionary-encoded, a group's key (tenant and bucket, then each set's value
codes) is packed into int64 and numbered with `np.unique(..., return_inverse=True)`, and the measures
are added up per group with `np.bincount` (histograms as `bincount(group * BUCKETS + bucket)`). No
Python loop runs per event per rollup row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from tuneway.analytics.dimension_sets import DIMENSION_SETS, ROLLUP_DIMENSIONS, SET_IDS
from tuneway.analytics.dimensions import knowledge_ran
from tuneway.analytics.domain import DAY_MS, HOUR_MS
from tuneway.analytics.feedback_value import FeedbackContribution
from tuneway.analytics.histogram import BUCKETS, buckets_of
from tuneway.analytics.models import COUNTERS
from tuneway.api.events.v1 import events_pb2

_AT = {name: index for index, name in enumerate(COUNTERS)}
Ints = npt.NDArray[np.int64]
# A measure column as the rows carry it: None for a zero, or the numbers as they are.
_MeasureCells = Callable[[npt.NDArray[Any]], npt.NDArray[Any]]
# (tenant_id, dimension_set, period_ms, bucket_start_ms, first_value, second_value, *COUNTERS,
#  *latency buckets, *ttft buckets, score_sum): models.ROLLUP_WRITE_COLUMNS' order; None for a zero where
#  the rows are written that way (RollupBatch.rows: on PostgreSQL).
RollupRow = tuple[Any, ...]
# (tenant_id, dimension_set, period_ms, bucket_start_ms, first_value, second_value, error_code, errors)
ErrorRow = tuple[Any, ...]


@dataclass
class RollupRows:
    """One batch's rollup additions, at most one row per key (the repository writes them in key order,
    so concurrent writers lock rows in the same order and cannot deadlock)."""

    rollups: list[RollupRow] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)


class RollupBatch:
    """Collects a batch's completions and feedback deltas; `rows()` adds them up per rollup row."""

    def __init__(self) -> None:
        self._tenants: list[str] = []
        self._created: list[int] = []
        self._dims: list[tuple[str, ...]] = []
        self._counters: list[Sequence[int]] = []
        self._score_sum: list[float] = []
        self._latency: list[float] = []
        self._ttft: list[float] = []
        self._error_codes: list[str] = []

    def __len__(self) -> int:
        return len(self._tenants)

    def add_events(
        self,
        events: Sequence[events_pb2.CompletionEvent],
        dims: Sequence[tuple[str, ...]],
        human: Sequence[bool],
    ) -> None:
        """Adds completions (with their dimension values and whether each asks for a human), column by
        column."""
        failed = [event.status == "error" for event in events]
        ran = [knowledge_ran(event) for event in events]
        ones, zeros = [1] * len(events), [0] * len(events)
        # In COUNTERS' order.
        columns = (
            ones,
            [int(value) for value in failed],
            [event.prompt_tokens for event in events],
            [event.completion_tokens for event in events],
            zeros,
            zeros,
            zeros,
            [int(knows and event.knowledge_no_answer) for knows, event in zip(ran, events, strict=True)],
            [int(value) for value in ran],
            [int(value) for value in human],
        )
        self._tenants.extend(event.tenant_id for event in events)
        self._created.extend(event.created_at_ms for event in events)
        self._dims.extend(dims)
        self._counters.extend(zip(*columns, strict=True))
        self._score_sum.extend([0.0] * len(events))
        self._latency.extend(event.latency_ms for event in events)
        self._ttft.extend(event.time_to_first_token_ms for event in events)
        self._error_codes.extend(
            (event.error_code or "unknown") if fails else ""
            for fails, event in zip(failed, events, strict=True)
        )

    def add_feedback(
        self, tenant_id: str, created_at_ms: int, dims: tuple[str, ...], delta: FeedbackContribution
    ) -> None:
        if delta.is_zero:
            return
        counters = (0, 0, 0, 0, delta.feedback_count, delta.positive_count, delta.score_count, 0, 0, 0)
        self._append(tenant_id, created_at_ms, dims, counters, delta.score_sum)

    def _append(
        self,
        tenant_id: str,
        created_at_ms: int,
        dims: tuple[str, ...],
        counters: Sequence[int],
        score_sum: float,
    ) -> None:
        self._tenants.append(tenant_id)
        self._created.append(created_at_ms)
        self._dims.append(dims)
        self._counters.append(counters)
        self._score_sum.append(score_sum)
        self._latency.append(-1.0)  # negative: no latency to count (a feedback delta)
        self._ttft.append(0.0)
        self._error_codes.append("")

    def rows(self, folded_until_ms: int, *, zeros_as_null: bool = True) -> RollupRows:
        """The additions per rollup row and per (row, error code), for every set: hourly rows, and daily
        rows for what falls in days starting before `folded_until_ms` (days already folded).

        `zeros_as_null` writes a zero measure as NULL, which the store reads as 0 (models.py): on
        PostgreSQL a NULL is a bit of the row's null bitmap where a 0 takes 4 or 8 bytes. Not on SQLite,
        which stores a 0 in no bytes anyway and ingested a third slower with NULLs that later batches
        add to (bench/README.md: 17,761 against 25,706 events/s)."""
        result = RollupRows()
        if not self._tenants:
            return result
        columns = _Columns(self)
        measure_cells = _nulls_for_zeros if zeros_as_null else _python_numbers
        columns.expand(HOUR_MS, result, measure_cells)
        folded = columns.created - columns.created % DAY_MS < folded_until_ms
        if folded.all():
            columns.expand(DAY_MS, result, measure_cells)
        elif folded.any():
            columns.subset(folded).expand(DAY_MS, result, measure_cells)
        return result


def _encode(values: Sequence[str]) -> tuple[npt.NDArray[Any], Ints]:
    """(distinct values in order, each value's index among them)."""
    # A dict numbers the values faster than np.unique sorts them all; then only the distinct ones are
    # sorted, so the rows come out in key order within a set (the database sorts them again).
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(value, len(index)) for value in values), np.int64, len(values))
    uniques = np.empty(len(index), dtype=object)
    uniques[:] = list(index)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return uniques[order], rank[codes]


def _nulls_for_zeros(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """`values` as Python numbers, None where 0 (an object array of the same shape)."""
    cells = np.full(values.shape, None, dtype=object)
    nonzero = values != 0
    cells[nonzero] = values[nonzero]
    return cells


def _python_numbers(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """`values` as they are (their `tolist()` gives Python numbers), zeros included."""
    return values


def _number(keys: Ints) -> tuple[int, Ints]:
    """Numbers the distinct keys 0..G-1: (G, each key's number)."""
    uniques, inverse = np.unique(keys, return_inverse=True)
    return len(uniques), inverse.astype(np.int64).ravel()


class _Columns:
    """The batch as columns: dictionary-encoded tenants, dimensions and error codes, and the measures."""

    def __init__(self, batch: RollupBatch | None) -> None:
        if batch is None:  # filled in by subset()
            return
        self.size = len(batch)
        self.tenants, self.tenant_codes = _encode(batch._tenants)
        self.created = np.asarray(batch._created, dtype=np.int64)
        dims = list(zip(*batch._dims, strict=True))  # column by column
        self.values: dict[str, npt.NDArray[Any]] = {}
        self.codes: dict[str, Ints] = {}
        for position, name in enumerate(ROLLUP_DIMENSIONS):
            self.values[name], self.codes[name] = _encode(dims[position])
        self.counters = np.asarray(batch._counters, dtype=np.int64).reshape(self.size, len(COUNTERS))
        self.score_sum = np.asarray(batch._score_sum, dtype=np.float64)
        latency = np.asarray(batch._latency, dtype=np.float64)
        ttft = np.asarray(batch._ttft, dtype=np.float64)
        self.latency_bucket = buckets_of(latency)
        self.latency_weight = (latency >= 0).astype(np.int64)
        self.ttft_bucket = buckets_of(ttft)
        self.ttft_weight = (ttft > 0).astype(np.int64)
        self.failed = np.flatnonzero([code != "" for code in batch._error_codes])
        self.error_codes, self.error_code_of = _encode([batch._error_codes[i] for i in self.failed])

    def subset(self, mask: npt.NDArray[np.bool_]) -> _Columns:
        """The rows where `mask` holds (the dictionaries stay whole: codes keep their meaning)."""
        part = _Columns(None)
        part.size = int(mask.sum())
        part.tenants, part.tenant_codes = self.tenants, self.tenant_codes[mask]
        part.created = self.created[mask]
        part.values = self.values
        part.codes = {name: codes[mask] for name, codes in self.codes.items()}
        part.counters, part.score_sum = self.counters[mask], self.score_sum[mask]
        part.latency_bucket, part.latency_weight = self.latency_bucket[mask], self.latency_weight[mask]
        part.ttft_bucket, part.ttft_weight = self.ttft_bucket[mask], self.ttft_weight[mask]
        kept = mask[self.failed]
        part.failed = (np.cumsum(mask) - 1)[self.failed[kept]]
        part.error_codes, part.error_code_of = self.error_codes, self.error_code_of[kept]
        return part

    @cached_property
    def sparse_measures(self) -> _SparseMeasures:
        return _SparseMeasures(self)

    def expand(self, period: int, result: RollupRows, measure_cells: _MeasureCells) -> None:
        bucket = self.created - self.created % period
        offset = (bucket - bucket.min()) // period
        base_groups, base = _number(self.tenant_codes * (int(offset.max()) + 1) + offset)
        self._emit(result, SET_IDS[()], period, bucket, (), base_groups, base, measure_cells)
        singles: dict[str, tuple[int, Ints]] = {}
        for name in ROLLUP_DIMENSIONS:
            singles[name] = _number(base * len(self.values[name]) + self.codes[name])
            self._emit(result, SET_IDS[(name,)], period, bucket, (name,), *singles[name], measure_cells)
        for names in DIMENSION_SETS:
            if len(names) != 2:
                continue
            first, second = names
            groups, inverse = _number(singles[first][1] * len(self.values[second]) + self.codes[second])
            self._emit(result, SET_IDS[names], period, bucket, names, groups, inverse, measure_cells)

    def _emit(
        self,
        result: RollupRows,
        set_id: int,
        period: int,
        bucket: Ints,
        names: tuple[str, ...],
        groups: int,
        group_of: Ints,
        measure_cells: _MeasureCells,
    ) -> None:
        # One representative event per group gives the group's tenant, bucket and values.
        representative = np.empty(groups, dtype=np.int64)
        representative[group_of] = np.arange(self.size)
        tenants = self.tenants[self.tenant_codes[representative]].tolist()
        starts = bucket[representative].tolist()
        values = [self.values[name][self.codes[name][representative]].tolist() for name in names]
        firsts = values[0] if names else [""] * groups
        seconds = values[1] if len(names) == 2 else [""] * groups
        counters, latency, ttft = self.sparse_measures.per_group(group_of, groups)
        # Column by column, then zipped: the rows are built in C, not one Python tuple at a time. A zero
        # is written as NULL where the store keeps a NULL in fewer bytes (`RollupBatch.rows`).
        measures = measure_cells(np.hstack([counters, latency, ttft]).astype(np.int64)).T.tolist()
        score_sum = np.bincount(group_of, weights=self.score_sum, minlength=groups)
        score_sums = measure_cells(score_sum).tolist()
        constant = [set_id] * groups, [period] * groups
        columns = (tenants, *constant, starts, firsts, seconds, *measures, score_sums)
        result.rollups.extend(zip(*columns, strict=True))
        if len(self.failed):
            self._emit_errors(result, set_id, period, tenants, starts, firsts, seconds, group_of)

    def _emit_errors(
        self,
        result: RollupRows,
        set_id: int,
        period: int,
        tenants: list[str],
        starts: list[int],
        firsts: list[str],
        seconds: list[str],
        group_of: Ints,
    ) -> None:
        codes = len(self.error_codes)
        keys, counts = np.unique(group_of[self.failed] * codes + self.error_code_of, return_counts=True)
        for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
            group, code = divmod(key, codes)
            result.errors.append(
                (
                    tenants[group],
                    set_id,
                    period,
                    starts[group],
                    firsts[group],
                    seconds[group],
                    str(self.error_codes[code]),
                    count,
                )
            )


class _SparseMeasures:
    """The integer measures of a level's rows, kept only where they are not zero, for adding up per group.

    Most of a batch's measure cells are zero (feedback counts on completions, the histogram buckets a
    request did not fall in) and most of the rest are 1: one `bincount` of the whole (rows x measures)
    matrix per dimension set, as weights converted to floats, cost ten times what these do (a
    `bincount` per measure over its non-zero rows only, unweighted where every one of them is 1)."""

    def __init__(self, columns: _Columns) -> None:
        self._size = columns.size
        self._counters: list[tuple[int, Ints | None, npt.NDArray[np.float64] | None]] = []
        for position in range(len(COUNTERS)):
            column = columns.counters[:, position]
            rows = np.flatnonzero(column)
            if not len(rows):
                continue
            weights = column[rows]
            self._counters.append(
                (
                    position,
                    None if len(rows) == self._size else rows,
                    None if (weights == 1).all() else weights.astype(np.float64),
                )
            )
        # Each histogram's weight is 0 or 1: the rows that count, and their buckets.
        self._latency = self._counted(columns.latency_weight, columns.latency_bucket)
        self._ttft = self._counted(columns.ttft_weight, columns.ttft_bucket)

    @staticmethod
    def _counted(weight: Ints, bucket: Ints) -> tuple[Ints, Ints]:
        rows = np.flatnonzero(weight)
        return rows, bucket[rows]

    def per_group(self, group_of: Ints, groups: int) -> tuple[Ints, Ints, Ints]:
        """(counters, latency buckets, ttft buckets) summed per group: int64 arrays of groups rows."""
        counters = np.zeros((groups, len(COUNTERS)), dtype=np.int64)
        for position, rows, weights in self._counters:
            of = group_of if rows is None else group_of[rows]
            counters[:, position] = np.bincount(of, weights=weights, minlength=groups)
        return (
            counters,
            self._histogram(self._latency, group_of, groups),
            self._histogram(self._ttft, group_of, groups),
        )

    @staticmethod
    def _histogram(counted: tuple[Ints, Ints], group_of: Ints, groups: int) -> Ints:
        rows, bucket = counted
        return np.bincount(group_of[rows] * BUCKETS + bucket, minlength=groups * BUCKETS).reshape(
            groups, BUCKETS
        )
