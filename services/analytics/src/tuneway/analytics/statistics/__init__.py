"""Experiment statistics: each arm against the control, with honest fixed-n and always-valid intervals.

Pure functions over counters and sums (numpy, scipy); no I/O.
"""

from tuneway.analytics.statistics.bayes import beta_chance_to_beat, normal_chance_to_beat
from tuneway.analytics.statistics.experiment import compare_arms, leader
from tuneway.analytics.statistics.means import ScoreSummary, welch_ttest
from tuneway.analytics.statistics.proportions import two_proportion_ztest
from tuneway.analytics.statistics.results import (
    MEAN_SCORE,
    POSITIVE_RATE,
    ArmSample,
    Comparison,
    DifferenceTest,
    ExperimentStatistics,
    SampleRatio,
)
from tuneway.analytics.statistics.sample_ratio import expected_shares, sample_ratio_check
from tuneway.analytics.statistics.sequential import (
    DEFAULT_TUNING_SAMPLE_SIZE,
    confidence_sequence,
    mixture_rho,
    sequence_half_width,
)

__all__ = [
    "DEFAULT_TUNING_SAMPLE_SIZE",
    "MEAN_SCORE",
    "POSITIVE_RATE",
    "ArmSample",
    "Comparison",
    "DifferenceTest",
    "ExperimentStatistics",
    "SampleRatio",
    "ScoreSummary",
    "beta_chance_to_beat",
    "compare_arms",
    "confidence_sequence",
    "expected_shares",
    "leader",
    "mixture_rho",
    "normal_chance_to_beat",
    "sample_ratio_check",
    "sequence_half_width",
    "two_proportion_ztest",
    "welch_ttest",
]
