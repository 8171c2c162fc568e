"""Mergeable latency histograms: fixed log-spaced buckets, merged by adding counts.

Bucket 0 holds [0, 1 ms); bucket k (1..BUCKETS-2) holds [1.4^(k-1), 1.4^k) ms, which reaches 10 minutes;
the last bucket holds everything slower. Every rollup row of every store uses the same buckets, so any
set of rows merges by adding their counts, and a percentile is interpolated inside its bucket (its
error is at most the bucket's width, 40% of the value). The growth is coarse on purpose: every rollup
row carries two histograms, and their width is a large part of the write cost (42 buckets, not 75).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

GROWTH = 1.4
_TOP_MS = 600_000.0  # 10 minutes
_FINITE = math.ceil(math.log(_TOP_MS) / math.log(GROWTH))  # 40 buckets above 1 ms
BUCKETS = _FINITE + 2
# EDGES[k] is bucket k's lower bound; EDGES[k + 1] its upper bound (the last one's is nominal).
EDGES: npt.NDArray[np.float64] = np.array([0.0] + [GROWTH**k for k in range(_FINITE + 2)])


def bucket_of(value_ms: float) -> int:
    """The bucket a duration falls in (negative values count as 0)."""
    if value_ms < 1.0:
        return 0
    return min(int(math.log(value_ms) / math.log(GROWTH)) + 1, BUCKETS - 1)


def buckets_of(values_ms: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """`bucket_of` of every value at once."""
    values = np.asarray(values_ms, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.floor(np.log(np.maximum(values, 1.0)) / math.log(GROWTH)) + 1
    return np.where(values < 1.0, 0, np.minimum(raw, BUCKETS - 1)).astype(np.int64)


def percentile(counts: npt.ArrayLike, quantile: float) -> float | None:
    """The `quantile` (0..1) of a histogram, interpolated linearly inside its bucket; None if empty."""
    array = np.asarray(counts, dtype=np.float64)
    total = float(array.sum())
    if total <= 0:
        return None
    rank = quantile * total
    cumulative = np.cumsum(array)
    index = int(np.searchsorted(cumulative, rank, side="left"))
    index = min(index, BUCKETS - 1)
    before = float(cumulative[index - 1]) if index > 0 else 0.0
    inside = float(array[index])
    fraction = (rank - before) / inside if inside else 0.0
    low, high = float(EDGES[index]), float(EDGES[index + 1])
    return low + (high - low) * min(max(fraction, 0.0), 1.0)
