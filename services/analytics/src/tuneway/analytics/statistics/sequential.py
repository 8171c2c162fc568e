"""Always-valid intervals: a confidence sequence for a difference, safe to look at after every batch."""

from __future__ import annotations

import math

# The total sample size (both arms) at which the sequence is tightest. GrowthBook's default; the
# interval stays valid at every n, only its width depends on this choice.
DEFAULT_TUNING_SAMPLE_SIZE = 5_000


def mixture_rho(tuning_sample_size: float = DEFAULT_TUNING_SAMPLE_SIZE, alpha: float = 0.05) -> float:
    """The mixing scale rho that makes the boundary tightest at n = `tuning_sample_size`:
    rho² = (-2 ln alpha + ln(1 - 2 ln alpha)) / n* (Howard et al. 2021, the choice for the normal mixture)."""
    log_alpha = math.log(alpha)
    return math.sqrt((-2.0 * log_alpha + math.log(1.0 - 2.0 * log_alpha)) / tuning_sample_size)


def sequence_half_width(
    standard_error: float,
    sample_size: int,
    alpha: float = 0.05,
    tuning_sample_size: float = DEFAULT_TUNING_SAMPLE_SIZE,
) -> float:
    """Half-width of the (1 - alpha) asymptotic confidence sequence at sample size n.

    Method: the normal-mixture boundary of Howard, Ramdas, McAuliffe and Sekhon (2021, "Time-uniform,
    nonparametric, nonasymptotic confidence sequences", Ann. Statist.) in the asymptotic form of
    Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas (2023, "Time-uniform central limit theory and
    asymptotic confidence sequences"): for an estimator whose variance is sigma²/n,
        half-width = sigma_hat · sqrt( 2 (n rho² + 1) / (n² rho²) · ln( sqrt(n rho² + 1) / alpha ) ),
    and with se = sigma_hat / sqrt(n) this is
        half-width = se · sqrt( ((n rho² + 1) / (n rho²)) · ln((n rho² + 1) / alpha²) ).
    Here n is the number of observations behind the difference (both arms) and rho comes from
    `mixture_rho`. The multiplier of se is at least sqrt(ln(1/alpha²)) ≈ 2.45 > 1.96 at alpha = 0.05, so the
    sequence is always wider than the fixed-n 95% interval; it grows like sqrt(ln n) while se shrinks
    like 1/sqrt(n), so the interval narrows as data arrives. n = 0 gives 0 (nothing to report).
    """
    if sample_size <= 0 or standard_error <= 0.0:
        return 0.0
    rho = mixture_rho(tuning_sample_size, alpha)
    scaled = sample_size * rho * rho
    return standard_error * math.sqrt((scaled + 1.0) / scaled * math.log((scaled + 1.0) / (alpha * alpha)))


def confidence_sequence(
    difference: float,
    standard_error: float,
    sample_size: int,
    alpha: float = 0.05,
    tuning_sample_size: float = DEFAULT_TUNING_SAMPLE_SIZE,
) -> tuple[float, float]:
    """The always-valid (1 - alpha) interval `difference ± sequence_half_width(...)` (see there)."""
    half_width = sequence_half_width(standard_error, sample_size, alpha, tuning_sample_size)
    return difference - half_width, difference + half_width
