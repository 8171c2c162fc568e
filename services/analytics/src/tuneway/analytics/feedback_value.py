"""What one feedback submission adds to the rollups, and how it reads on a dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from tuneway.analytics.domain import FeedbackRecord

# Scale -> (lowest, highest) score; a score above the midpoint is positive.
SCALES: dict[str, tuple[float, float]] = {"0-1": (0.0, 1.0), "1-5": (1.0, 5.0)}


@dataclass(frozen=True)
class FeedbackContribution:
    """Counter deltas of one feedback in its completion's rollup row."""

    feedback_count: int = 0
    positive_count: int = 0
    score_count: int = 0
    score_sum: float = 0.0

    def minus(self, other: FeedbackContribution) -> FeedbackContribution:
        return FeedbackContribution(
            self.feedback_count - other.feedback_count,
            self.positive_count - other.positive_count,
            self.score_count - other.score_count,
            self.score_sum - other.score_sum,
        )

    @property
    def is_zero(self) -> bool:
        return not (self.feedback_count or self.positive_count or self.score_count or self.score_sum)


NONE = FeedbackContribution()


def normalised_score(score: float, scale: str) -> float | None:
    """The score mapped to 0..1 (1-5 -> (s-1)/4), clamped; None when there is no (known) scale."""
    bounds = SCALES.get(scale)
    if bounds is None:
        return None
    low, high = bounds
    return min(max((score - low) / (high - low), 0.0), 1.0)


def contribution(feedback: FeedbackRecord) -> FeedbackContribution:
    """Ratings count in feedback/positive only; scores also in the score count and sum."""
    return contribution_of(feedback.rating, feedback.score, feedback.scale)


def contribution_of(rating: int, score: float, scale: str) -> FeedbackContribution:
    """`contribution` of a judgement given by its rating, score and scale."""
    normalised = normalised_score(score, scale)
    if normalised is None:
        return FeedbackContribution(1, int(rating > 0), 0, 0.0)
    return FeedbackContribution(1, int(normalised > 0.5), 1, normalised)


def sentiment(feedback: FeedbackRecord) -> str:
    """positive | negative | neutral, for the feedback metric."""
    score = normalised_score(feedback.score, feedback.scale)
    value = feedback.rating if score is None else score - 0.5
    return "positive" if value > 0 else "negative" if value < 0 else "neutral"
