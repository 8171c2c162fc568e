"""Values the analytics service reasons about: dimensions, measures, queries and their answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from tuneway.core.errors import InvalidArgumentError

# What summaries group and filter by; each is a column of the events and of the rollups.
DIMENSIONS: tuple[str, ...] = (
    "query_type",
    "channel",
    "language",
    "model",
    "adapter",
    "assistant",
    "prompt_version",
    "variant",
    "experiment_arm",
    "kind",
    "endpoint",
)
INTERVALS = {"hour": 3_600_000, "day": 86_400_000}
HOUR_MS = INTERVALS["hour"]
DAY_MS = INTERVALS["day"]
MAX_PAGE = 1000
DEFAULT_PAGE = 100


def check_dimensions(names: list[str], param: str) -> None:
    """Refuses a dimension name the store does not have, naming the field it came from."""
    for name in names:
        if name not in DIMENSIONS:
            raise InvalidArgumentError(
                f"Unknown dimension {name!r} in {param}; use one of {', '.join(DIMENSIONS)}.", param=param
            )
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"{param} names a dimension twice.", param=param)


@dataclass(frozen=True)
class Window:
    """A half-open [from, to) range of Unix milliseconds."""

    from_ms: int
    to_ms: int

    def __post_init__(self) -> None:
        if self.from_ms < 0:
            raise InvalidArgumentError("from_ms must not be negative.", param="from_ms")
        if self.from_ms >= self.to_ms:
            raise InvalidArgumentError("from_ms must be before to_ms.", param="from_ms")


@dataclass(frozen=True)
class Slice:
    """Which rollups a summary or time series reads: a window, dimensions to group by, exact filters."""

    tenant_id: str
    window: Window
    group_by: tuple[str, ...] = ()
    filters: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_dimensions(list(self.group_by), "group_by")
        check_dimensions(list(self.filters), "filters")


@dataclass
class Measures:
    """What the rollups add up for one group (see analytics.proto's Measures)."""

    requests: int = 0
    errors: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    time_to_first_token_p50_ms: float | None = None
    feedback_count: int = 0
    positive_count: int = 0
    score_count: int = 0
    mean_score: float | None = None
    no_answer_count: int = 0
    knowledge_requests: int = 0
    human_request_count: int = 0

    @property
    def positive_rate(self) -> float | None:
        return self.positive_count / self.feedback_count if self.feedback_count else None

    @property
    def no_answer_rate(self) -> float | None:
        return self.no_answer_count / self.knowledge_requests if self.knowledge_requests else None

    @property
    def human_request_rate(self) -> float | None:
        return self.human_request_count / self.requests if self.requests else None


@dataclass(frozen=True)
class SummaryRow:
    group: dict[str, str]
    measures: Measures


@dataclass(frozen=True)
class Summary:
    rows: list[SummaryRow]
    total: Measures


@dataclass(frozen=True)
class TimeseriesPoint:
    bucket_start_ms: int
    group: dict[str, str]
    measures: Measures


@dataclass(frozen=True)
class FeedbackRecord:
    """The feedback kept for one (tenant, completion, user): the latest submission."""

    feedback_id: str
    tenant_id: str
    completion_id: str
    user: str
    created_at_ms: int
    rating: int
    score: float
    scale: str
    label: str = ""
    comment: str = ""
    api_key_id: str = ""


@dataclass(frozen=True)
class StoredEvent:
    """A raw completion event as kept: its serialised CompletionEvent (without the last user message),
    the scrubbed message if the tenant keeps it, its query type and its feedback."""

    payload: bytes
    message_text: str
    query_type: str
    feedback: list[FeedbackRecord]


@dataclass(frozen=True)
class EventPage:
    events: list[StoredEvent]
    has_more: bool
    next_cursor: str


@dataclass(frozen=True)
class TenantSettings:
    keep_message_text: bool = False


@dataclass(frozen=True)
class ArmTotals:
    """What the raw events of one experiment arm add up to."""

    name: str
    exposures: int = 0
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    feedback_count: int = 0
    positive_count: int = 0
    score_count: int = 0
    score_sum: float = 0.0
    score_sum_squares: float = 0.0
