"""Experiment results: each arm's raw events and feedback added up, then compared with the control."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.analytics.domain import ArmTotals, FeedbackRecord
from tuneway.analytics.feedback_value import FeedbackContribution, contribution
from tuneway.analytics.repository import events as event_rows
from tuneway.analytics.statistics import ArmSample, ExperimentStatistics, compare_arms
from tuneway.core.errors import InvalidArgumentError


@dataclass(frozen=True)
class ExperimentResults:
    experiment_id: str
    control: str
    min_sample: int
    arms: list[ArmTotals]
    enough_data_by_arm: dict[str, bool]
    statistics: ExperimentStatistics


class ExperimentReader:
    """Reads one experiment's raw events (the rollups do not keep users, which exposures count)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], default_min_sample: int) -> None:
        self._sessions = sessions
        self._default_min_sample = default_min_sample

    async def results(
        self,
        tenant_id: str,
        experiment_id: str,
        arms: Sequence[tuple[str, float]],
        control: str,
        min_sample: int,
    ) -> ExperimentResults:
        names = _check(experiment_id, arms, control, min_sample)
        control = control or names[0]
        min_sample = min_sample or self._default_min_sample
        prefix = f"{experiment_id}:"
        async with self._sessions() as session:
            counted = await event_rows.experiment_arms(session, tenant_id, experiment_id)
            latencies = await event_rows.experiment_latencies(session, tenant_id, experiment_id)
            judged = await event_rows.experiment_feedback(session, tenant_id, experiment_id)
        by_arm: dict[str, list[float]] = defaultdict(list)
        for column, latency in latencies:
            by_arm[column.removeprefix(prefix)].append(latency)
        feedback: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0.0])
        for column, rating, score, scale in judged:
            sums = feedback[column.removeprefix(prefix)]
            value = contribution_of(rating, score, scale)
            sums[0] += value.feedback_count
            sums[1] += value.positive_count
            sums[2] += value.score_count
            sums[3] += value.score_sum
            sums[4] += value.score_sum**2
        totals_by_name: dict[str, ArmTotals] = {}
        for column, exposures, requests, errors, prompt_tokens, completion_tokens in counted:
            name = column.removeprefix(prefix)
            latency = np.asarray(by_arm[name])
            sums = feedback[name]
            totals_by_name[name] = ArmTotals(
                name=name,
                exposures=int(exposures),
                requests=int(requests),
                errors=int(errors or 0),
                prompt_tokens=int(prompt_tokens or 0),
                completion_tokens=int(completion_tokens or 0),
                latency_p50_ms=float(np.percentile(latency, 50)) if latency.size else None,
                latency_p95_ms=float(np.percentile(latency, 95)) if latency.size else None,
                feedback_count=int(sums[0]),
                positive_count=int(sums[1]),
                score_count=int(sums[2]),
                score_sum=float(sums[3]),
                score_sum_squares=float(sums[4]),
            )
        # Configured arms with no events yet still appear (with zeros).
        totals = [totals_by_name.get(name, ArmTotals(name=name)) for name in names]
        samples = [
            ArmSample(
                t.name,
                t.exposures,
                t.feedback_count,
                t.positive_count,
                t.score_count,
                t.score_sum,
                t.score_sum_squares,
            )
            for t in totals
        ]
        statistics = compare_arms(samples, control, dict(arms), min_sample)
        return ExperimentResults(
            experiment_id=experiment_id,
            control=control,
            min_sample=min_sample,
            arms=totals,
            enough_data_by_arm={t.name: t.feedback_count >= min_sample for t in totals},
            statistics=statistics,
        )


def contribution_of(rating: int, score: float, scale: str) -> FeedbackContribution:
    """What one stored feedback adds to its arm (the same rules as the rollups)."""
    return contribution(FeedbackRecord("", "", "", "", 0, rating, score, scale))


def _check(experiment_id: str, arms: Sequence[tuple[str, float]], control: str, min_sample: int) -> list[str]:
    if not experiment_id:
        raise InvalidArgumentError("experiment_id is required.", param="experiment_id")
    names = [name for name, _ in arms]
    if not names:
        raise InvalidArgumentError("arms must name the experiment's arms.", param="arms")
    if any(not name for name in names) or len(set(names)) != len(names):
        raise InvalidArgumentError("arms must have distinct, non-empty names.", param="arms")
    if control and control not in names:
        raise InvalidArgumentError(f"control {control!r} is not one of the arms.", param="control")
    if min_sample < 0:
        raise InvalidArgumentError("min_sample must not be negative.", param="min_sample")
    return names
