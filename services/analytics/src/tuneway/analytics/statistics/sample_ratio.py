"""Sample-ratio mismatch: do exposures follow the configured weights?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from tuneway.analytics.statistics.results import SampleRatio
from tuneway.core.errors import InvalidArgumentError

# Below this p-value assignment is considered broken (the usual SRM threshold).
MISMATCH_P_VALUE = 0.001


def expected_shares(arms: Sequence[str], weights: Mapping[str, float]) -> tuple[float, ...]:
    """weight / sum of weights per arm; an arm missing from `weights` has weight 0, and when no arm
    has a positive weight the shares are equal. A negative weight is refused."""
    values = [float(weights.get(name, 0.0)) for name in arms]
    for name, value in zip(arms, values, strict=True):
        if value < 0.0 or not np.isfinite(value):
            raise InvalidArgumentError(
                f"The weight of arm {name!r} must be a non-negative number.", param="arms"
            )
    total = sum(values)
    if total <= 0.0:
        return tuple(1.0 / len(arms) for _ in arms) if arms else ()
    return tuple(value / total for value in values)


def sample_ratio_check(
    arms: Sequence[str], exposures: Sequence[int], weights: Mapping[str, float]
) -> SampleRatio:
    """Chi-square goodness of fit of the exposures against the weights' shares.

    Method: χ² = Σ (observed - expected)² / expected with expected = share · total exposures and
    k - 1 degrees of freedom (as `scipy.stats.chisquare(observed, expected)`); mismatch when
    p < 0.001. Edge cases (finite by design): with no exposures or a single arm there is nothing to
    test (χ² = 0, p = 1); arms whose share is 0 are left out of the χ² and, if any of them has
    exposures, that alone is a mismatch (p = 0).
    """
    shares = expected_shares(arms, weights)
    observed = tuple(int(n) for n in exposures)
    result = SampleRatio(tuple(arms), shares, observed, 0.0, 1.0, False)
    total = sum(observed)
    tested = [(n, share) for n, share in zip(observed, shares, strict=True) if share > 0.0]
    if total == 0 or len(arms) < 2:
        return result
    if any(n > 0 for n, share in zip(observed, shares, strict=True) if share == 0.0):
        return SampleRatio(result.arms, shares, observed, _chi_square(tested), 0.0, True)
    if len(tested) < 2:
        return result
    chi_square, p_value = stats.chisquare([n for n, _ in tested], [share * total for _, share in tested])
    return SampleRatio(
        result.arms, shares, observed, float(chi_square), float(p_value), p_value < MISMATCH_P_VALUE
    )


def _chi_square(tested: Sequence[tuple[int, float]]) -> float:
    """χ² over the arms with a positive share (expected counts from their own total)."""
    total = sum(n for n, _ in tested)
    share_sum = sum(share for _, share in tested)
    if total == 0 or share_sum == 0.0:
        return 0.0
    expected = [share / share_sum * total for _, share in tested]
    return float(sum((n - e) ** 2 / e for (n, _), e in zip(tested, expected, strict=True)))
