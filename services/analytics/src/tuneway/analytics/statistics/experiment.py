"""Every arm of an experiment against its control: the comparisons a results page shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tuneway.analytics.statistics.bayes import beta_chance_to_beat, normal_chance_to_beat
from tuneway.analytics.statistics.means import ScoreSummary, welch_ttest
from tuneway.analytics.statistics.proportions import two_proportion_ztest
from tuneway.analytics.statistics.results import (
    MEAN_SCORE,
    POSITIVE_RATE,
    ArmSample,
    Comparison,
    DifferenceTest,
    ExperimentStatistics,
)
from tuneway.analytics.statistics.sample_ratio import sample_ratio_check
from tuneway.analytics.statistics.sequential import confidence_sequence
from tuneway.core.errors import InvalidArgumentError

# Fewest observations any comparison needs, whatever min_sample says: a rate needs one observation
# per arm, a mean two (for a variance).
FEWEST_FEEDBACK = 1
FEWEST_SCORES = 2


def compare_arms(
    arms: Sequence[ArmSample], control: str, weights: Mapping[str, float], min_sample: int
) -> ExperimentStatistics:
    """Each non-control arm against `control`, on positive_rate (two-proportion z-test, exact Beta
    chance to beat) and then mean_score (Welch's t, normal chance to beat), each with its confidence
    sequence; the sample-ratio check of exposures against `weights`; and the leader.

    A comparison needs at least `min_sample` observations of its metric in both arms (and at least 1
    feedback for a rate, 2 scores for a mean); below that `enough_data` is False and its numbers are 0.
    `significant` means the always-valid interval excludes 0, so results can be looked at any time.
    """
    _check(arms, control, min_sample)
    control_arm = next(arm for arm in arms if arm.name == control)
    comparisons: list[Comparison] = []
    for arm in arms:
        if arm.name != control:
            comparisons.append(_positive_rate(control_arm, arm, min_sample))
            comparisons.append(_mean_score(control_arm, arm, min_sample))
    sample_ratio = sample_ratio_check([arm.name for arm in arms], [arm.exposures for arm in arms], weights)
    return ExperimentStatistics(
        comparisons=tuple(comparisons),
        sample_ratio=sample_ratio,
        enough_data=all(arm.feedback_count >= min_sample for arm in arms),
        leader=leader(comparisons),
    )


def leader(comparisons: Sequence[Comparison]) -> str:
    """The arm significantly better than the control on positive_rate, else on mean_score; among
    several, the one with the largest difference; "" when none is."""
    for metric in (POSITIVE_RATE, MEAN_SCORE):
        winners = [c for c in comparisons if c.metric == metric and c.significant and c.difference > 0]
        if winners:
            return max(winners, key=lambda c: c.difference).arm
    return ""


def _positive_rate(control: ArmSample, arm: ArmSample, min_sample: int) -> Comparison:
    needed = max(min_sample, FEWEST_FEEDBACK)
    if min(control.feedback_count, arm.feedback_count) < needed:
        return _not_enough(arm.name, POSITIVE_RATE)
    test = two_proportion_ztest(
        control.positive_count, control.feedback_count, arm.positive_count, arm.feedback_count
    )
    chance = beta_chance_to_beat(
        control.positive_count, control.feedback_count, arm.positive_count, arm.feedback_count
    )
    return _comparison(arm.name, POSITIVE_RATE, test, chance, control.feedback_count + arm.feedback_count)


def _mean_score(control: ArmSample, arm: ArmSample, min_sample: int) -> Comparison:
    needed = max(min_sample, FEWEST_SCORES)
    if min(control.score_count, arm.score_count) < needed:
        return _not_enough(arm.name, MEAN_SCORE)
    test = welch_ttest(_scores(control), _scores(arm))
    chance = normal_chance_to_beat(test.difference, test.standard_error)
    return _comparison(arm.name, MEAN_SCORE, test, chance, control.score_count + arm.score_count)


def _scores(arm: ArmSample) -> ScoreSummary:
    return ScoreSummary.from_sums(arm.score_count, arm.score_sum, arm.score_sum_squares)


def _comparison(arm: str, metric: str, test: DifferenceTest, chance: float, sample_size: int) -> Comparison:
    low, high = confidence_sequence(test.difference, test.standard_error, sample_size)
    return Comparison(
        arm=arm,
        metric=metric,
        control_value=test.control_value,
        arm_value=test.arm_value,
        difference=test.difference,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        p_value=test.p_value,
        chance_to_beat_control=chance,
        sequential_ci_low=low,
        sequential_ci_high=high,
        significant=low > 0.0 or high < 0.0,
        enough_data=True,
    )


def _not_enough(arm: str, metric: str) -> Comparison:
    return Comparison(arm, metric, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, False)


def _check(arms: Sequence[ArmSample], control: str, min_sample: int) -> None:
    """Refuses inputs no statistic can be computed from, naming the field."""
    names = [arm.name for arm in arms]
    if control not in names:
        raise InvalidArgumentError(f"The control {control!r} is not one of the arms.", param="control")
    if len(set(names)) != len(names):
        raise InvalidArgumentError("The arms' names must be distinct.", param="arms")
    if min_sample < 0:
        raise InvalidArgumentError("min_sample must not be negative.", param="min_sample")
    for arm in arms:
        counts = (arm.exposures, arm.feedback_count, arm.positive_count, arm.score_count)
        if min(counts) < 0:
            raise InvalidArgumentError(f"Arm {arm.name!r} has a negative count.", param="arms")
        if arm.positive_count > arm.feedback_count:
            raise InvalidArgumentError(
                f"Arm {arm.name!r} has more positive feedback than feedback.", param="arms"
            )
