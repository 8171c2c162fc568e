"""Which variant of a version serves a request, and which experiment arm serves a user."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from tuneway.prompt_svc.domain import ExperimentArm, Variant


def variant_chain(variants: Sequence[Variant], language: str, channel: str, tone: str) -> list[int]:
    """Indexes of the matching variants, most specific first; the version's defaults come after them.

    A variant matches when each selector it sets equals the request's value. Language outranks
    channel, which outranks tone, so `de+web` comes before `de`, which comes before `web`. A field a
    variant leaves unset falls back along this chain (e.g. `de+web` -> `de` -> the defaults).
    """
    scored = []
    for index, variant in enumerate(variants):
        score = 0
        for selector, wanted, weight in (
            (variant.language, language, 4),
            (variant.channel, channel, 2),
            (variant.tone, tone, 1),
        ):
            if selector:
                if selector != wanted:
                    break
                score += weight
        else:
            scored.append((-score, index))
    return [index for _, index in sorted(scored)]


def bucket(experiment_id: str, unit: str) -> float:
    """A point in [0, 1) fixed by the experiment and the user: the same on every replica and run."""
    digest = hashlib.sha256(f"{experiment_id}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_arm(experiment_id: str, unit: str, arms: Sequence[ExperimentArm]) -> ExperimentArm:
    """The arm whose share of [0, 1) holds the unit's bucket (shares proportional to weights)."""
    point = bucket(experiment_id, unit) * sum(arm.weight for arm in arms)
    for arm in arms:
        point -= arm.weight
        if point < 0:
            return arm
    return arms[-1]  # rounding at the very top of the range
