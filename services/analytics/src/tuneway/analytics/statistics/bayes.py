"""Bayesian chance that an arm beats the control."""

from __future__ import annotations

import numpy as np
from scipy import special, stats


def beta_chance_to_beat(
    control_positive: int, control_total: int, arm_positive: int, arm_total: int
) -> float:
    """Exact P(p_arm > p_control) under independent Beta(1, 1) priors on each arm's positive rate.

    Method: the posteriors are Beta(1 + x, 1 + n - x); for integer parameters Evan Miller's closed form
    ("Formulas for Bayesian A/B testing", 2015) gives, for X ~ Beta(a1, b1), Y ~ Beta(a2, b2),
        P(X > Y) = Σ_{i=0}^{a1-1} B(a2 + i, b1 + b2) / ((b1 + i) B(1 + i, b1) B(a2, b2)),
    summed here in log space. The same probability can be written with the sum over a1, a2, b1 or b2
    (by symmetry and by X -> 1 - X); the shortest sum is used, so the cost is O(min count) and the
    answer deterministic. With no feedback at all both posteriors are uniform and the answer is 0.5.
    """
    arm = (1 + arm_positive, 1 + arm_total - arm_positive)
    control = (1 + control_positive, 1 + control_total - control_positive)
    (a1, b1), (a2, b2) = arm, control
    options = (
        (a1, lambda: _greater(a1, b1, a2, b2)),
        (a2, lambda: 1.0 - _greater(a2, b2, a1, b1)),
        (b2, lambda: _greater(b2, a2, b1, a1)),
        (b1, lambda: 1.0 - _greater(b1, a1, b2, a2)),
    )
    _, shortest = min(options, key=lambda option: option[0])
    return float(min(max(shortest(), 0.0), 1.0))


def _greater(a1: int, b1: int, a2: int, b2: int) -> float:
    """P(X > Y) for X ~ Beta(a1, b1), Y ~ Beta(a2, b2), a1 a positive integer (the sum has a1 terms)."""
    i = np.arange(a1, dtype=np.float64)
    log_terms = (
        special.betaln(a2 + i, b1 + b2)
        - np.log(b1 + i)
        - special.betaln(1.0 + i, b1)
        - special.betaln(a2, b2)
    )
    return float(np.exp(special.logsumexp(log_terms)))


def normal_chance_to_beat(difference: float, standard_error: float) -> float:
    """P(mean_arm > mean_control) with a normal approximation to the difference's posterior (flat prior):
    Φ(difference / se). With se = 0 it is 1, 0 or 0.5 as the difference is positive, negative or 0."""
    if standard_error <= 0.0:
        return 1.0 if difference > 0 else 0.0 if difference < 0 else 0.5
    return float(stats.norm.cdf(difference / standard_error))
