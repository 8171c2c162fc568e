"""Difference of two means from summary statistics: Welch's t-test and its interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from tuneway.analytics.statistics.results import DifferenceTest


@dataclass(frozen=True)
class ScoreSummary:
    """Count, mean and sample variance (ddof=1) of one arm's scores."""

    count: int
    mean: float
    variance: float

    @classmethod
    def from_sums(cls, count: int, total: float, sum_squares: float) -> ScoreSummary:
        """From the running sums the store keeps. Fewer than 2 scores have variance 0 (none is
        estimable); a variance that rounding made slightly negative is 0."""
        if count <= 0:
            return cls(0, 0.0, 0.0)
        mean = total / count
        if count < 2:
            return cls(count, mean, 0.0)
        variance = (sum_squares - total * total / count) / (count - 1)
        return cls(count, mean, max(variance, 0.0))


def welch_ttest(control: ScoreSummary, arm: ScoreSummary, confidence: float = 0.95) -> DifferenceTest:
    """Welch's unequal-variance t-test of `mean_arm - mean_control` from summary statistics.

    Method: se = sqrt(s_a² / n_a + s_c² / n_c), t = difference / se, degrees of freedom by
    Welch-Satterthwaite, df = se⁴ / ((s_a²/n_a)² / (n_a - 1) + (s_c²/n_c)² / (n_c - 1)); the p-value is
    two-sided from Student's t with df (as `scipy.stats.ttest_ind_from_stats(..., equal_var=False)`)
    and the interval is difference ± t_{(1+confidence)/2, df} · se.

    Edge cases (finite by design): an arm with fewer than 2 scores contributes no variance; when
    se = 0 (no variance in either arm) df is taken as n_a + n_c - 2 (at least 1), the interval is
    [difference, difference], and p = 1 if the means are equal, else 0 (t = ±inf is reported as 0
    with that p-value).
    """
    difference = arm.mean - control.mean
    terms = [s.variance / s.count if s.count > 0 else 0.0 for s in (arm, control)]
    se = math.sqrt(sum(terms))
    if se == 0.0:
        p_value = 1.0 if difference == 0.0 else 0.0
        return DifferenceTest(control.mean, arm.mean, difference, 0.0, 0.0, difference, difference, p_value)
    df_denominator = sum(
        term * term / (s.count - 1) for term, s in zip(terms, (arm, control), strict=True) if s.count > 1
    )
    df = se**4 / df_denominator
    t = difference / se
    p_value = float(2.0 * stats.t.sf(abs(t), df))
    half_width = float(stats.t.ppf(0.5 + confidence / 2.0, df)) * se
    return DifferenceTest(
        control_value=control.mean,
        arm_value=arm.mean,
        difference=difference,
        standard_error=se,
        statistic=t,
        ci_low=difference - half_width,
        ci_high=difference + half_width,
        p_value=p_value,
    )
