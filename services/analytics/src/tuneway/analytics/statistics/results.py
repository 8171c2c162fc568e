"""The values experiment statistics return: inputs per arm, comparisons, the sample-ratio check."""

from __future__ import annotations

from dataclasses import dataclass

POSITIVE_RATE = "positive_rate"
MEAN_SCORE = "mean_score"


@dataclass(frozen=True)
class ArmSample:
    """What one arm observed: its exposures and its feedback, as counters and sums."""

    name: str
    exposures: int  # distinct units assigned (for the sample-ratio check)
    feedback_count: int  # binary observations: each feedback judged positive or not
    positive_count: int
    score_count: int  # scores normalised to 0..1
    score_sum: float
    score_sum_squares: float


@dataclass(frozen=True)
class DifferenceTest:
    """A fixed-sample test of `arm - control` on one metric (a building block of a Comparison)."""

    control_value: float
    arm_value: float
    difference: float
    standard_error: float  # of the difference, the one its confidence interval uses
    statistic: float  # z or t
    ci_low: float  # 95% (or the requested) confidence interval of the difference
    ci_high: float
    p_value: float  # two-sided


@dataclass(frozen=True)
class Comparison:
    """One non-control arm against the control on one metric."""

    arm: str
    metric: str  # "positive_rate" | "mean_score"
    control_value: float
    arm_value: float
    difference: float  # arm - control
    ci_low: float  # 95% CI of the difference
    ci_high: float
    p_value: float
    chance_to_beat_control: float
    sequential_ci_low: float  # always-valid 95% interval (confidence sequence)
    sequential_ci_high: float
    significant: bool  # the sequential interval excludes 0
    enough_data: bool  # both arms have >= min_sample observations of this metric; else numbers are 0


@dataclass(frozen=True)
class SampleRatio:
    """Whether exposures follow the configured weights (chi-square goodness of fit)."""

    arms: tuple[str, ...]
    expected_shares: tuple[float, ...]
    observed: tuple[int, ...]
    chi_square: float
    p_value: float
    mismatch: bool  # p < 0.001


@dataclass(frozen=True)
class ExperimentStatistics:
    """Every comparison of an experiment, its sample-ratio check and its leader."""

    comparisons: tuple[Comparison, ...]  # per non-control arm: positive_rate, then mean_score
    sample_ratio: SampleRatio
    enough_data: bool  # every arm has feedback_count >= min_sample
    leader: str  # the arm significantly better than control on positive_rate (else on mean_score); "" if none
