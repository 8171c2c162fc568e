"""Difference of two proportions: the two-proportion z-test and the Wald interval."""

from __future__ import annotations

import math

from scipy import stats

from tuneway.analytics.statistics.results import DifferenceTest


def rate(positive: int, total: int) -> float:
    """positive / total, and 0.0 for no observations (the value reported for an empty arm)."""
    return positive / total if total > 0 else 0.0


def two_proportion_ztest(
    control_positive: int, control_total: int, arm_positive: int, arm_total: int, confidence: float = 0.95
) -> DifferenceTest:
    """Two-proportion z-test of `p_arm - p_control`.

    Method: the p-value uses the pooled standard error under the null hypothesis of equal rates,
    z = (p_a - p_c) / sqrt(p (1 - p) (1/n_a + 1/n_c)) with p = (x_a + x_c) / (n_a + n_c), two-sided
    (as `statsmodels.stats.proportion.proportions_ztest`); the confidence interval uses the unpooled
    Wald standard error sqrt(p_a (1 - p_a) / n_a + p_c (1 - p_c) / n_c) (as
    `confint_proportions_2indep(method="wald")`), and so does `standard_error`.

    Edge cases (finite by design): an arm without observations has rate 0 and adds no variance; when
    the pooled standard error is 0 (both arms all positive, or all negative, or empty) the rates are
    equal, so z = 0 and p = 1; a Wald standard error of 0 gives the degenerate interval
    [difference, difference].
    """
    p_control = rate(control_positive, control_total)
    p_arm = rate(arm_positive, arm_total)
    difference = p_arm - p_control
    total = control_total + arm_total
    pooled = rate(control_positive + arm_positive, total)
    inverse_sizes = sum(1.0 / n for n in (control_total, arm_total) if n > 0)
    pooled_se = math.sqrt(pooled * (1.0 - pooled) * inverse_sizes)
    if pooled_se > 0.0:
        z = difference / pooled_se
        p_value = float(2.0 * stats.norm.sf(abs(z)))
    else:
        z, p_value = 0.0, 1.0
    wald_se = math.sqrt(_bernoulli_variance(p_arm, arm_total) + _bernoulli_variance(p_control, control_total))
    half_width = float(stats.norm.ppf(0.5 + confidence / 2.0)) * wald_se
    return DifferenceTest(
        control_value=p_control,
        arm_value=p_arm,
        difference=difference,
        standard_error=wald_se,
        statistic=z,
        ci_low=difference - half_width,
        ci_high=difference + half_width,
        p_value=p_value,
    )


def _bernoulli_variance(p: float, total: int) -> float:
    """Variance of a sample proportion; 0 without observations."""
    return p * (1.0 - p) / total if total > 0 else 0.0
