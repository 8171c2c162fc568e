"""Each statistic against scipy/statsmodels on fixed tables, and the edge cases that must stay finite."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from tuneway.analytics.statistics import (
    ScoreSummary,
    beta_chance_to_beat,
    confidence_sequence,
    expected_shares,
    normal_chance_to_beat,
    sample_ratio_check,
    sequence_half_width,
    two_proportion_ztest,
    welch_ttest,
)
from tuneway.core.errors import InvalidArgumentError


@pytest.mark.parametrize(
    ("control", "arm"),
    [((120, 400), (150, 400)), ((30, 250), (22, 310)), ((990, 1000), (1000, 1000)), ((1, 3), (2, 2))],
)
def test_two_proportion_ztest_matches_statsmodels(control: tuple[int, int], arm: tuple[int, int]) -> None:
    test = two_proportion_ztest(control[0], control[1], arm[0], arm[1])
    z, p_value = proportions_ztest([arm[0], control[0]], [arm[1], control[1]])
    low, high = confint_proportions_2indep(arm[0], arm[1], control[0], control[1], method="wald")
    assert test.statistic == pytest.approx(z)
    assert test.p_value == pytest.approx(p_value)
    assert (test.ci_low, test.ci_high) == pytest.approx((low, high))
    assert test.difference == pytest.approx(arm[0] / arm[1] - control[0] / control[1])


def test_the_120_of_400_against_150_of_400_table() -> None:
    test = two_proportion_ztest(120, 400, 150, 400)
    assert (test.control_value, test.arm_value, test.difference) == pytest.approx((0.3, 0.375, 0.075))
    # Pooled p = 270/800: z = 0.075 / sqrt(p(1-p)(2/400)) = 2.2431, two-sided p = 0.0249
    assert test.statistic == pytest.approx(2.2431, abs=1e-4)
    assert test.p_value == pytest.approx(0.0249, abs=1e-4)
    assert test.ci_low > 0


def test_proportions_without_variance_are_finite() -> None:
    all_positive = two_proportion_ztest(50, 50, 80, 80)
    assert (all_positive.difference, all_positive.p_value, all_positive.statistic) == (0.0, 1.0, 0.0)
    assert (all_positive.ci_low, all_positive.ci_high) == (0.0, 0.0)
    empty = two_proportion_ztest(0, 0, 0, 0)
    assert (empty.control_value, empty.arm_value, empty.p_value) == (0.0, 0.0, 1.0)
    opposite = two_proportion_ztest(0, 40, 40, 40)
    assert opposite.difference == 1.0 and opposite.standard_error == 0.0
    assert (opposite.ci_low, opposite.ci_high) == (1.0, 1.0)
    assert opposite.p_value == pytest.approx(proportions_ztest([40, 0], [40, 40])[1])


def _scores(seed: int, n: int, mean: float, spread: float) -> np.ndarray:
    return np.clip(np.random.default_rng(seed).normal(mean, spread, n), 0.0, 1.0)


def _summary(values: np.ndarray) -> ScoreSummary:
    return ScoreSummary.from_sums(len(values), float(values.sum()), float((values**2).sum()))


def test_welch_matches_scipy_and_statsmodels() -> None:
    control, arm = _scores(1, 180, 0.55, 0.2), _scores(2, 240, 0.6, 0.3)
    test = welch_ttest(_summary(control), _summary(arm))
    reference = stats.ttest_ind_from_stats(
        arm.mean(),
        arm.std(ddof=1),
        len(arm),
        control.mean(),
        control.std(ddof=1),
        len(control),
        equal_var=False,
    )
    assert test.statistic == pytest.approx(reference.statistic)
    assert test.p_value == pytest.approx(reference.pvalue)
    low, high = CompareMeans(DescrStatsW(arm), DescrStatsW(control)).tconfint_diff(usevar="unequal")
    assert (test.ci_low, test.ci_high) == pytest.approx((low, high))
    scipy_interval = stats.ttest_ind(arm, control, equal_var=False).confidence_interval()
    assert (test.ci_low, test.ci_high) == pytest.approx((scipy_interval.low, scipy_interval.high))


def test_summary_from_known_sums() -> None:
    # Scores 0.25, 0.5, 0.75, 1.0: mean 0.625, sample variance 0.1041666...
    summary = ScoreSummary.from_sums(4, 2.5, 0.0625 + 0.25 + 0.5625 + 1.0)
    assert summary.mean == pytest.approx(0.625)
    assert summary.variance == pytest.approx(np.var([0.25, 0.5, 0.75, 1.0], ddof=1))
    assert ScoreSummary.from_sums(1, 0.7, 0.49) == ScoreSummary(1, 0.7, 0.0)
    assert ScoreSummary.from_sums(0, 0.0, 0.0) == ScoreSummary(0, 0.0, 0.0)


def test_welch_without_variance_is_finite() -> None:
    same = welch_ttest(ScoreSummary(50, 0.8, 0.0), ScoreSummary(60, 0.8, 0.0))
    assert (same.difference, same.p_value, same.ci_low, same.ci_high) == (0.0, 1.0, 0.0, 0.0)
    apart = welch_ttest(ScoreSummary(50, 0.5, 0.0), ScoreSummary(60, 1.0, 0.0))
    assert (apart.difference, apart.p_value, apart.ci_low, apart.ci_high) == (0.5, 0.0, 0.5, 0.5)
    # One arm without variance: Welch still works from the other arm's variance.
    one_sided = welch_ttest(ScoreSummary(50, 0.5, 0.0), ScoreSummary(60, 0.6, 0.04))
    reference = stats.ttest_ind_from_stats(0.6, 0.2, 60, 0.5, 0.0, 50, equal_var=False)
    assert one_sided.p_value == pytest.approx(reference.pvalue)


def _integrated_chance(control: tuple[int, int], arm: tuple[int, int]) -> float:
    arm_posterior = stats.beta(1 + arm[0], 1 + arm[1] - arm[0])
    control_posterior = stats.beta(1 + control[0], 1 + control[1] - control[0])
    value, _ = integrate.quad(
        lambda x: arm_posterior.pdf(x) * control_posterior.cdf(x),
        0.0,
        1.0,
        points=[arm_posterior.mean()],
        limit=200,
    )
    return float(value)


@pytest.mark.parametrize(
    ("control", "arm"),
    [
        ((120, 400), (150, 400)),
        ((150, 400), (120, 400)),
        ((3, 10), (7, 12)),
        ((0, 5), (0, 8)),
        ((40, 41), (2, 3)),
    ],
)
def test_beta_chance_to_beat_matches_numerical_integration(
    control: tuple[int, int], arm: tuple[int, int]
) -> None:
    chance = beta_chance_to_beat(control[0], control[1], arm[0], arm[1])
    assert chance == pytest.approx(_integrated_chance(control, arm), abs=1e-6)


def test_beta_chance_to_beat_edges() -> None:
    assert beta_chance_to_beat(0, 0, 0, 0) == pytest.approx(0.5)
    assert beta_chance_to_beat(200, 400, 200, 400) == pytest.approx(0.5)
    strong = beta_chance_to_beat(100, 1000, 900, 1000)
    assert 0.999 < strong <= 1.0
    assert beta_chance_to_beat(900, 1000, 100, 1000) == pytest.approx(1.0 - strong)
    # Large counts stay fast and finite (the sum runs over the smallest parameter).
    assert 0.0 <= beta_chance_to_beat(499_000, 1_000_000, 500_500, 1_000_000) <= 1.0


def test_normal_chance_to_beat() -> None:
    assert normal_chance_to_beat(0.02, 0.01) == pytest.approx(stats.norm.cdf(2.0))
    assert normal_chance_to_beat(-0.02, 0.01) == pytest.approx(stats.norm.cdf(-2.0))
    assert (normal_chance_to_beat(0.1, 0.0), normal_chance_to_beat(-0.1, 0.0)) == (1.0, 0.0)
    assert normal_chance_to_beat(0.0, 0.0) == 0.5


def test_confidence_sequence_is_wider_than_the_fixed_interval_and_shrinks() -> None:
    previous = math.inf
    for n in (10, 100, 1_000, 5_000, 20_000, 1_000_000):
        se = 0.5 / math.sqrt(n)  # the standard error of a quantity with unit-scale spread
        half_width = sequence_half_width(se, n)
        assert half_width > 1.959964 * se
        assert half_width < previous
        previous = half_width
    low, high = confidence_sequence(0.03, 0.01, 800)
    assert low < 0.03 < high and high - 0.03 == pytest.approx(0.03 - low)
    assert confidence_sequence(0.2, 0.0, 100) == (0.2, 0.2)
    assert confidence_sequence(0.0, 0.1, 0) == (0.0, 0.0)


def test_sample_ratio_matches_scipy_chisquare() -> None:
    check = sample_ratio_check(["a", "b", "c"], [1050, 980, 2030], {"a": 1, "b": 1, "c": 2})
    expected = np.array([0.25, 0.25, 0.5]) * 4060
    reference = stats.chisquare([1050, 980, 2030], expected)
    assert check.expected_shares == pytest.approx((0.25, 0.25, 0.5))
    assert (check.chi_square, check.p_value) == pytest.approx((reference.statistic, reference.pvalue))
    assert not check.mismatch
    skewed = sample_ratio_check(["a", "b"], [5300, 4700], {"a": 50, "b": 50})
    assert skewed.p_value == pytest.approx(stats.chisquare([5300, 4700]).pvalue)
    assert skewed.mismatch


def test_sample_ratio_edges() -> None:
    assert sample_ratio_check(["a", "b"], [0, 0], {"a": 1, "b": 1}).p_value == 1.0
    single = sample_ratio_check(["a"], [500], {"a": 1})
    assert (single.chi_square, single.p_value, single.mismatch) == (0.0, 1.0, False)
    # No usable weights: equal shares.
    assert expected_shares(["a", "b"], {}) == (0.5, 0.5)
    unweighted_arm = sample_ratio_check(["a", "b", "c"], [100, 100, 3], {"a": 1, "b": 1, "c": 0})
    assert unweighted_arm.mismatch and unweighted_arm.p_value == 0.0
    assert math.isfinite(unweighted_arm.chi_square)
    zero_weight_unused = sample_ratio_check(["a", "b", "c"], [100, 104, 0], {"a": 1, "b": 1, "c": 0})
    assert not zero_weight_unused.mismatch
    assert zero_weight_unused.p_value == pytest.approx(stats.chisquare([100, 104]).pvalue)
    with pytest.raises(InvalidArgumentError) as error:
        expected_shares(["a", "b"], {"a": -1.0, "b": 1.0})
    assert error.value.param == "arms"
