from tuneway.api.events.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Measures(_message.Message):
    __slots__ = ("requests", "errors", "errors_by_code", "prompt_tokens", "completion_tokens", "latency_p50_ms", "latency_p95_ms", "time_to_first_token_p50_ms", "feedback_count", "positive_count", "positive_rate", "score_count", "mean_score", "no_answer_count", "no_answer_rate", "human_request_count", "human_request_rate")
    class ErrorsByCodeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_BY_CODE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIRST_TOKEN_P50_MS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_RATE_FIELD_NUMBER: _ClassVar[int]
    SCORE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_SCORE_FIELD_NUMBER: _ClassVar[int]
    NO_ANSWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    NO_ANSWER_RATE_FIELD_NUMBER: _ClassVar[int]
    HUMAN_REQUEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    HUMAN_REQUEST_RATE_FIELD_NUMBER: _ClassVar[int]
    requests: int
    errors: int
    errors_by_code: _containers.ScalarMap[str, int]
    prompt_tokens: int
    completion_tokens: int
    latency_p50_ms: float
    latency_p95_ms: float
    time_to_first_token_p50_ms: float
    feedback_count: int
    positive_count: int
    positive_rate: float
    score_count: int
    mean_score: float
    no_answer_count: int
    no_answer_rate: float
    human_request_count: int
    human_request_rate: float
    def __init__(self, requests: _Optional[int] = ..., errors: _Optional[int] = ..., errors_by_code: _Optional[_Mapping[str, int]] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., time_to_first_token_p50_ms: _Optional[float] = ..., feedback_count: _Optional[int] = ..., positive_count: _Optional[int] = ..., positive_rate: _Optional[float] = ..., score_count: _Optional[int] = ..., mean_score: _Optional[float] = ..., no_answer_count: _Optional[int] = ..., no_answer_rate: _Optional[float] = ..., human_request_count: _Optional[int] = ..., human_request_rate: _Optional[float] = ...) -> None: ...

class GetSummaryRequest(_message.Message):
    __slots__ = ("tenant_id", "from_ms", "to_ms", "group_by", "filters")
    class FiltersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_MS_FIELD_NUMBER: _ClassVar[int]
    TO_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    from_ms: int
    to_ms: int
    group_by: _containers.RepeatedScalarFieldContainer[str]
    filters: _containers.ScalarMap[str, str]
    def __init__(self, tenant_id: _Optional[str] = ..., from_ms: _Optional[int] = ..., to_ms: _Optional[int] = ..., group_by: _Optional[_Iterable[str]] = ..., filters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SummaryRow(_message.Message):
    __slots__ = ("group", "measures")
    class GroupEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    group: _containers.ScalarMap[str, str]
    measures: Measures
    def __init__(self, group: _Optional[_Mapping[str, str]] = ..., measures: _Optional[_Union[Measures, _Mapping]] = ...) -> None: ...

class GetSummaryResponse(_message.Message):
    __slots__ = ("rows", "total")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[SummaryRow]
    total: Measures
    def __init__(self, rows: _Optional[_Iterable[_Union[SummaryRow, _Mapping]]] = ..., total: _Optional[_Union[Measures, _Mapping]] = ...) -> None: ...

class GetTimeseriesRequest(_message.Message):
    __slots__ = ("tenant_id", "from_ms", "to_ms", "interval", "group_by", "filters")
    class FiltersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_MS_FIELD_NUMBER: _ClassVar[int]
    TO_MS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    from_ms: int
    to_ms: int
    interval: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    filters: _containers.ScalarMap[str, str]
    def __init__(self, tenant_id: _Optional[str] = ..., from_ms: _Optional[int] = ..., to_ms: _Optional[int] = ..., interval: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., filters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TimeseriesPoint(_message.Message):
    __slots__ = ("bucket_start_ms", "group", "measures")
    class GroupEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUCKET_START_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    bucket_start_ms: int
    group: _containers.ScalarMap[str, str]
    measures: Measures
    def __init__(self, bucket_start_ms: _Optional[int] = ..., group: _Optional[_Mapping[str, str]] = ..., measures: _Optional[_Union[Measures, _Mapping]] = ...) -> None: ...

class GetTimeseriesResponse(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[TimeseriesPoint]
    def __init__(self, points: _Optional[_Iterable[_Union[TimeseriesPoint, _Mapping]]] = ...) -> None: ...

class Feedback(_message.Message):
    __slots__ = ("feedback_id", "completion_id", "user", "created_at_ms", "rating", "score", "scale", "label", "comment")
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    completion_id: str
    user: str
    created_at_ms: int
    rating: int
    score: float
    scale: str
    label: str
    comment: str
    def __init__(self, feedback_id: _Optional[str] = ..., completion_id: _Optional[str] = ..., user: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., rating: _Optional[int] = ..., score: _Optional[float] = ..., scale: _Optional[str] = ..., label: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class StoredEvent(_message.Message):
    __slots__ = ("event", "query_type", "feedback")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    QUERY_TYPE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.CompletionEvent
    query_type: str
    feedback: _containers.RepeatedCompositeFieldContainer[Feedback]
    def __init__(self, event: _Optional[_Union[_events_pb2.CompletionEvent, _Mapping]] = ..., query_type: _Optional[str] = ..., feedback: _Optional[_Iterable[_Union[Feedback, _Mapping]]] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("tenant_id", "from_ms", "to_ms", "filters", "limit", "cursor")
    class FiltersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_MS_FIELD_NUMBER: _ClassVar[int]
    TO_MS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    from_ms: int
    to_ms: int
    filters: _containers.ScalarMap[str, str]
    limit: int
    cursor: str
    def __init__(self, tenant_id: _Optional[str] = ..., from_ms: _Optional[int] = ..., to_ms: _Optional[int] = ..., filters: _Optional[_Mapping[str, str]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "has_more", "next_cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[StoredEvent]
    has_more: bool
    next_cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[StoredEvent, _Mapping]]] = ..., has_more: _Optional[bool] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ExperimentArm(_message.Message):
    __slots__ = ("name", "weight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: float
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class GetExperimentResultsRequest(_message.Message):
    __slots__ = ("tenant_id", "experiment_id", "arms", "control", "min_sample")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    MIN_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    experiment_id: str
    arms: _containers.RepeatedCompositeFieldContainer[ExperimentArm]
    control: str
    min_sample: int
    def __init__(self, tenant_id: _Optional[str] = ..., experiment_id: _Optional[str] = ..., arms: _Optional[_Iterable[_Union[ExperimentArm, _Mapping]]] = ..., control: _Optional[str] = ..., min_sample: _Optional[int] = ...) -> None: ...

class ArmResult(_message.Message):
    __slots__ = ("name", "exposures", "requests", "errors", "feedback_count", "positive_count", "positive_rate", "score_count", "mean_score", "score_stddev", "latency_p50_ms", "latency_p95_ms", "prompt_tokens", "completion_tokens", "enough_data")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPOSURES_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_COUNT_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_RATE_FIELD_NUMBER: _ClassVar[int]
    SCORE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ENOUGH_DATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    exposures: int
    requests: int
    errors: int
    feedback_count: int
    positive_count: int
    positive_rate: float
    score_count: int
    mean_score: float
    score_stddev: float
    latency_p50_ms: float
    latency_p95_ms: float
    prompt_tokens: int
    completion_tokens: int
    enough_data: bool
    def __init__(self, name: _Optional[str] = ..., exposures: _Optional[int] = ..., requests: _Optional[int] = ..., errors: _Optional[int] = ..., feedback_count: _Optional[int] = ..., positive_count: _Optional[int] = ..., positive_rate: _Optional[float] = ..., score_count: _Optional[int] = ..., mean_score: _Optional[float] = ..., score_stddev: _Optional[float] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., enough_data: _Optional[bool] = ...) -> None: ...

class Comparison(_message.Message):
    __slots__ = ("arm", "metric", "control_value", "arm_value", "difference", "ci_low", "ci_high", "p_value", "chance_to_beat_control", "sequential_ci_low", "sequential_ci_high", "significant", "enough_data")
    ARM_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CONTROL_VALUE_FIELD_NUMBER: _ClassVar[int]
    ARM_VALUE_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    CHANCE_TO_BEAT_CONTROL_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_CI_LOW_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    SIGNIFICANT_FIELD_NUMBER: _ClassVar[int]
    ENOUGH_DATA_FIELD_NUMBER: _ClassVar[int]
    arm: str
    metric: str
    control_value: float
    arm_value: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    chance_to_beat_control: float
    sequential_ci_low: float
    sequential_ci_high: float
    significant: bool
    enough_data: bool
    def __init__(self, arm: _Optional[str] = ..., metric: _Optional[str] = ..., control_value: _Optional[float] = ..., arm_value: _Optional[float] = ..., difference: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., p_value: _Optional[float] = ..., chance_to_beat_control: _Optional[float] = ..., sequential_ci_low: _Optional[float] = ..., sequential_ci_high: _Optional[float] = ..., significant: _Optional[bool] = ..., enough_data: _Optional[bool] = ...) -> None: ...

class SampleRatioCheck(_message.Message):
    __slots__ = ("arms", "expected_shares", "observed", "chi_square", "p_value", "mismatch")
    ARMS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHARES_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    CHI_SQUARE_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    MISMATCH_FIELD_NUMBER: _ClassVar[int]
    arms: _containers.RepeatedScalarFieldContainer[str]
    expected_shares: _containers.RepeatedScalarFieldContainer[float]
    observed: _containers.RepeatedScalarFieldContainer[int]
    chi_square: float
    p_value: float
    mismatch: bool
    def __init__(self, arms: _Optional[_Iterable[str]] = ..., expected_shares: _Optional[_Iterable[float]] = ..., observed: _Optional[_Iterable[int]] = ..., chi_square: _Optional[float] = ..., p_value: _Optional[float] = ..., mismatch: _Optional[bool] = ...) -> None: ...

class GetExperimentResultsResponse(_message.Message):
    __slots__ = ("experiment_id", "control", "min_sample", "arms", "comparisons", "sample_ratio", "enough_data", "leader")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    MIN_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATIO_FIELD_NUMBER: _ClassVar[int]
    ENOUGH_DATA_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    control: str
    min_sample: int
    arms: _containers.RepeatedCompositeFieldContainer[ArmResult]
    comparisons: _containers.RepeatedCompositeFieldContainer[Comparison]
    sample_ratio: SampleRatioCheck
    enough_data: bool
    leader: str
    def __init__(self, experiment_id: _Optional[str] = ..., control: _Optional[str] = ..., min_sample: _Optional[int] = ..., arms: _Optional[_Iterable[_Union[ArmResult, _Mapping]]] = ..., comparisons: _Optional[_Iterable[_Union[Comparison, _Mapping]]] = ..., sample_ratio: _Optional[_Union[SampleRatioCheck, _Mapping]] = ..., enough_data: _Optional[bool] = ..., leader: _Optional[str] = ...) -> None: ...

class QueryType(_message.Message):
    __slots__ = ("name", "examples", "builtin")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    name: str
    examples: _containers.RepeatedScalarFieldContainer[str]
    builtin: bool
    def __init__(self, name: _Optional[str] = ..., examples: _Optional[_Iterable[str]] = ..., builtin: _Optional[bool] = ...) -> None: ...

class ListQueryTypesRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class ListQueryTypesResponse(_message.Message):
    __slots__ = ("query_types", "threshold")
    QUERY_TYPES_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    query_types: _containers.RepeatedCompositeFieldContainer[QueryType]
    threshold: float
    def __init__(self, query_types: _Optional[_Iterable[_Union[QueryType, _Mapping]]] = ..., threshold: _Optional[float] = ...) -> None: ...

class PutQueryTypeRequest(_message.Message):
    __slots__ = ("tenant_id", "name", "examples")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    name: str
    examples: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., examples: _Optional[_Iterable[str]] = ...) -> None: ...

class PutQueryTypeResponse(_message.Message):
    __slots__ = ("query_type",)
    QUERY_TYPE_FIELD_NUMBER: _ClassVar[int]
    query_type: QueryType
    def __init__(self, query_type: _Optional[_Union[QueryType, _Mapping]] = ...) -> None: ...

class DeleteQueryTypeRequest(_message.Message):
    __slots__ = ("tenant_id", "name")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    name: str
    def __init__(self, tenant_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DeleteQueryTypeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClassifyQueriesRequest(_message.Message):
    __slots__ = ("tenant_id", "texts")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant_id: _Optional[str] = ..., texts: _Optional[_Iterable[str]] = ...) -> None: ...

class Classification(_message.Message):
    __slots__ = ("query_type", "similarity")
    QUERY_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    query_type: str
    similarity: float
    def __init__(self, query_type: _Optional[str] = ..., similarity: _Optional[float] = ...) -> None: ...

class ClassifyQueriesResponse(_message.Message):
    __slots__ = ("classifications",)
    CLASSIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    classifications: _containers.RepeatedCompositeFieldContainer[Classification]
    def __init__(self, classifications: _Optional[_Iterable[_Union[Classification, _Mapping]]] = ...) -> None: ...

class AnalyticsSettings(_message.Message):
    __slots__ = ("keep_message_text",)
    KEEP_MESSAGE_TEXT_FIELD_NUMBER: _ClassVar[int]
    keep_message_text: bool
    def __init__(self, keep_message_text: _Optional[bool] = ...) -> None: ...

class GetSettingsRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class GetSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: AnalyticsSettings
    def __init__(self, settings: _Optional[_Union[AnalyticsSettings, _Mapping]] = ...) -> None: ...

class UpdateSettingsRequest(_message.Message):
    __slots__ = ("tenant_id", "settings")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    settings: AnalyticsSettings
    def __init__(self, tenant_id: _Optional[str] = ..., settings: _Optional[_Union[AnalyticsSettings, _Mapping]] = ...) -> None: ...

class UpdateSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: AnalyticsSettings
    def __init__(self, settings: _Optional[_Union[AnalyticsSettings, _Mapping]] = ...) -> None: ...
