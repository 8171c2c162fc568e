"""Proto messages to domain values and back (no decisions here)."""

from __future__ import annotations

from tuneway.analytics.domain import FeedbackRecord, Measures, StoredEvent
from tuneway.analytics.experiments import ExperimentResults
from tuneway.analytics.query_types.taxonomy import QueryTypeDefinition
from tuneway.api.analytics.v1 import analytics_pb2 as pb
from tuneway.api.events.v1 import events_pb2


def measures(value: Measures) -> pb.Measures:
    message = pb.Measures(
        requests=value.requests,
        errors=value.errors,
        errors_by_code=value.errors_by_code,
        prompt_tokens=value.prompt_tokens,
        completion_tokens=value.completion_tokens,
        feedback_count=value.feedback_count,
        positive_count=value.positive_count,
        score_count=value.score_count,
        no_answer_count=value.no_answer_count,
        human_request_count=value.human_request_count,
    )
    optional = {
        "latency_p50_ms": value.latency_p50_ms,
        "latency_p95_ms": value.latency_p95_ms,
        "time_to_first_token_p50_ms": value.time_to_first_token_p50_ms,
        "positive_rate": value.positive_rate,
        "mean_score": value.mean_score,
        "no_answer_rate": value.no_answer_rate,
        "human_request_rate": value.human_request_rate,
    }
    for name, number in optional.items():
        if number is not None:
            setattr(message, name, number)
    return message


def feedback(value: FeedbackRecord) -> pb.Feedback:
    return pb.Feedback(
        feedback_id=value.feedback_id,
        completion_id=value.completion_id,
        user=value.user,
        created_at_ms=value.created_at_ms,
        rating=value.rating,
        score=value.score,
        scale=value.scale,
        label=value.label,
        comment=value.comment,
    )


def stored_event(value: StoredEvent) -> pb.StoredEvent:
    event = events_pb2.CompletionEvent.FromString(value.payload)
    event.last_user_message = value.message_text
    return pb.StoredEvent(
        event=event, query_type=value.query_type, feedback=[feedback(f) for f in value.feedback]
    )


def query_type(value: QueryTypeDefinition) -> pb.QueryType:
    return pb.QueryType(name=value.name, examples=list(value.examples), builtin=value.builtin)


def experiment_results(value: ExperimentResults) -> pb.GetExperimentResultsResponse:
    arms = []
    for arm in value.arms:
        message = pb.ArmResult(
            name=arm.name,
            exposures=arm.exposures,
            requests=arm.requests,
            errors=arm.errors,
            feedback_count=arm.feedback_count,
            positive_count=arm.positive_count,
            score_count=arm.score_count,
            prompt_tokens=arm.prompt_tokens,
            completion_tokens=arm.completion_tokens,
            enough_data=value.enough_data_by_arm[arm.name],
        )
        if arm.feedback_count:
            message.positive_rate = arm.positive_count / arm.feedback_count
        if arm.score_count:
            mean = arm.score_sum / arm.score_count
            message.mean_score = mean
            if arm.score_count > 1:
                variance = (arm.score_sum_squares - arm.score_count * mean * mean) / (arm.score_count - 1)
                message.score_stddev = max(variance, 0.0) ** 0.5
        if arm.latency_p50_ms is not None:
            message.latency_p50_ms = arm.latency_p50_ms
        if arm.latency_p95_ms is not None:
            message.latency_p95_ms = arm.latency_p95_ms
        arms.append(message)
    statistics = value.statistics
    ratio = statistics.sample_ratio
    return pb.GetExperimentResultsResponse(
        experiment_id=value.experiment_id,
        control=value.control,
        min_sample=value.min_sample,
        arms=arms,
        comparisons=[
            pb.Comparison(
                arm=c.arm,
                metric=c.metric,
                control_value=c.control_value,
                arm_value=c.arm_value,
                difference=c.difference,
                ci_low=c.ci_low,
                ci_high=c.ci_high,
                p_value=c.p_value,
                chance_to_beat_control=c.chance_to_beat_control,
                sequential_ci_low=c.sequential_ci_low,
                sequential_ci_high=c.sequential_ci_high,
                significant=c.significant,
                enough_data=c.enough_data,
            )
            for c in statistics.comparisons
        ],
        sample_ratio=pb.SampleRatioCheck(
            arms=list(ratio.arms),
            expected_shares=list(ratio.expected_shares),
            observed=list(ratio.observed),
            chi_square=ratio.chi_square,
            p_value=ratio.p_value,
            mismatch=ratio.mismatch,
        ),
        enough_data=statistics.enough_data,
        leader=statistics.leader,
    )
