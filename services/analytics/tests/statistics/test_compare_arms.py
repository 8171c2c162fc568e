"""compare_arms: comparisons per arm and metric, data gates, the leader, and why the sequence matters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tuneway.analytics.statistics import (
    MEAN_SCORE,
    POSITIVE_RATE,
    ArmSample,
    Comparison,
    compare_arms,
    two_proportion_ztest,
)
from tuneway.core.errors import InvalidArgumentError


def arm(
    name: str, feedback: int, positive: int, scores: list[float] | None = None, exposures: int = 0
) -> ArmSample:
    values = np.array(scores or [], dtype=float)
    return ArmSample(
        name=name,
        exposures=exposures or feedback,
        feedback_count=feedback,
        positive_count=positive,
        score_count=len(values),
        score_sum=float(values.sum()),
        score_sum_squares=float((values**2).sum()),
    )


def scores(seed: int, n: int, mean: float) -> list[float]:
    return [float(v) for v in np.clip(np.random.default_rng(seed).normal(mean, 0.25, n), 0.0, 1.0)]


def numbers(comparison: Comparison) -> tuple[float, ...]:
    return (
        comparison.control_value,
        comparison.arm_value,
        comparison.difference,
        comparison.ci_low,
        comparison.ci_high,
        comparison.p_value,
        comparison.chance_to_beat_control,
        comparison.sequential_ci_low,
        comparison.sequential_ci_high,
    )


def test_each_arm_against_the_control_on_both_metrics() -> None:
    control_scores, better_scores = scores(1, 300, 0.5), scores(2, 300, 0.6)
    result = compare_arms(
        [arm("control", 400, 120, control_scores), arm("b", 400, 150, better_scores), arm("c", 400, 118)],
        control="control",
        weights={"control": 1, "b": 1, "c": 1},
        min_sample=100,
    )
    assert [(c.arm, c.metric) for c in result.comparisons] == [
        ("b", POSITIVE_RATE),
        ("b", MEAN_SCORE),
        ("c", POSITIVE_RATE),
        ("c", MEAN_SCORE),
    ]
    rate_b, mean_b, rate_c, mean_c = result.comparisons
    fixed = two_proportion_ztest(120, 400, 150, 400)
    assert (rate_b.difference, rate_b.p_value, rate_b.ci_low) == pytest.approx(
        (fixed.difference, fixed.p_value, fixed.ci_low)
    )
    # The always-valid interval contains the fixed one; at p = 0.025 only the fixed one excludes 0.
    assert rate_b.sequential_ci_low < rate_b.ci_low and rate_b.sequential_ci_high > rate_b.ci_high
    assert rate_b.ci_low > 0 and not rate_b.significant
    assert 0.95 < rate_b.chance_to_beat_control < 1.0
    reference = stats.ttest_ind(better_scores, control_scores, equal_var=False)
    assert mean_b.p_value == pytest.approx(reference.pvalue)
    assert mean_b.significant and mean_b.sequential_ci_low > 0
    assert result.leader == "b"  # not significant on the rate, so the leader comes from mean_score
    assert rate_c.enough_data and not mean_c.enough_data and numbers(mean_c) == (0.0,) * 9
    assert result.enough_data
    assert not result.sample_ratio.mismatch and result.sample_ratio.observed == (400, 400, 400)


def test_leader_prefers_positive_rate_and_the_best_arm() -> None:
    result = compare_arms(
        [arm("a", 2000, 600), arm("b", 2000, 760), arm("c", 2000, 860, exposures=2000)],
        control="a",
        weights={"a": 1, "b": 1, "c": 1},
        min_sample=100,
    )
    rate_b, _, rate_c, _ = result.comparisons
    assert rate_b.significant and rate_c.significant
    assert result.leader == "c"
    worse = compare_arms([arm("a", 2000, 760), arm("b", 2000, 600)], "a", {"a": 1, "b": 1}, 100)
    assert worse.comparisons[0].significant and worse.comparisons[0].difference < 0
    assert worse.leader == ""


def test_below_min_sample_every_number_is_zero() -> None:
    result = compare_arms(
        [arm("control", 99, 30, scores(3, 99, 0.5)), arm("b", 500, 400, scores(4, 500, 0.9))],
        control="control",
        weights={"control": 1, "b": 1},
        min_sample=100,
    )
    for comparison in result.comparisons:
        assert not comparison.enough_data and not comparison.significant
        assert numbers(comparison) == (0.0,) * 9
    assert not result.enough_data and result.leader == ""


def test_edge_cases_are_finite() -> None:
    only_control = compare_arms([arm("a", 10, 5)], "a", {"a": 1}, 0)
    assert only_control.comparisons == () and only_control.leader == ""
    assert (only_control.sample_ratio.chi_square, only_control.sample_ratio.p_value) == (0.0, 1.0)
    no_feedback = compare_arms([arm("a", 0, 0), arm("b", 0, 0)], "a", {}, 0)
    assert all(not c.enough_data for c in no_feedback.comparisons)
    all_positive = compare_arms(
        [arm("a", 50, 50, [1.0] * 50), arm("b", 60, 60, [1.0] * 60)], "a", {"a": 1, "b": 1}, 10
    )
    for comparison in all_positive.comparisons:
        assert comparison.enough_data and not comparison.significant
        assert all(math.isfinite(value) for value in numbers(comparison))
        assert (comparison.difference, comparison.p_value, comparison.chance_to_beat_control) == (
            0.0,
            1.0,
            pytest.approx(0.5, abs=0.05),
        )


@pytest.mark.parametrize(
    ("arms", "control", "min_sample", "param"),
    [
        ([arm("a", 10, 5)], "z", 0, "control"),
        ([arm("a", 10, 5), arm("a", 10, 5)], "a", 0, "arms"),
        ([arm("a", 10, 11)], "a", 0, "arms"),
        ([arm("a", -1, 0)], "a", 0, "arms"),
        ([arm("a", 10, 5)], "a", -1, "min_sample"),
    ],
)
def test_bad_input_names_the_field(arms: list[ArmSample], control: str, min_sample: int, param: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        compare_arms(arms, control, {}, min_sample)
    assert error.value.param == param


def test_peeking_at_a_fixed_interval_finds_differences_the_sequence_does_not() -> None:
    """A/A experiments (both arms 30% positive) looked at after every batch of 100 per arm, 20 times:
    the fixed 95% interval excludes 0 at some look far more often than 5% of runs; the confidence
    sequence stays near or below 5% (it holds for every look at once)."""
    rng = np.random.default_rng(20240611)
    runs, looks, batch = 300, 20, 100
    fixed_found = sequential_found = 0
    for _ in range(runs):
        positives = rng.binomial(batch, 0.3, size=(looks, 2)).cumsum(axis=0)
        fixed_hit = sequential_hit = False
        for look in range(looks):
            n = batch * (look + 1)
            result = compare_arms(
                [arm("a", n, int(positives[look, 0])), arm("b", n, int(positives[look, 1]))],
                "a",
                {"a": 1, "b": 1},
                min_sample=0,
            )
            rate = result.comparisons[0]
            fixed_hit = fixed_hit or rate.ci_low > 0 or rate.ci_high < 0
            sequential_hit = sequential_hit or rate.significant
        fixed_found += fixed_hit
        sequential_found += sequential_hit
    fixed_rate, sequential_rate = fixed_found / runs, sequential_found / runs
    print(
        f"A/A, {looks} looks: the fixed CI finds a difference in {fixed_rate:.1%}, the sequence in"
        f" {sequential_rate:.1%}"
    )
    assert fixed_rate > 0.15
    assert sequential_rate <= 0.06
