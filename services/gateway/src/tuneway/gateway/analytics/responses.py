"""Analytics protobufs -> the JSON the API returns (absent optional measures are null), and reports as
CSV. The TypedDicts document the success schemas."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Literal

import orjson
from google.protobuf.message import Message
from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.api.analytics.v1 import analytics_pb2 as apb
from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.gateway.analytics.report_query import ReportQuery, iso


class Measures(TypedDict):
    """What happened in a group: requests and errors, tokens, latency percentiles, feedback, rates."""

    requests: int
    errors: int
    errors_by_code: dict[str, int]
    prompt_tokens: int
    completion_tokens: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    time_to_first_token_p50_ms: float | None
    feedback_count: int
    positive_count: int
    positive_rate: float | None
    score_count: int
    mean_score: float | None
    no_answer_count: int
    no_answer_rate: float | None
    human_request_count: int
    human_request_rate: float | None


class SummaryRow(Measures):
    """The measures of one group (dimension -> value)."""

    group: dict[str, str]


# `from` is a keyword: the functional form gives the field its real name.
Summary = TypedDict(
    "Summary",
    {
        "object": Literal["analytics.summary"],
        "from": str,
        "to": str,
        "group_by": list[str],
        "data": list[SummaryRow],
        "total": Measures,
    },
)


class TimeseriesPoint(SummaryRow):
    """The measures of one group in one bucket."""

    bucket_start: str


Timeseries = TypedDict(
    "Timeseries",
    {
        "object": Literal["analytics.timeseries"],
        "from": str,
        "to": str,
        "interval": str,
        "group_by": list[str],
        "data": list[TimeseriesPoint],
    },
)


class EventObject(TypedDict, total=False):
    """One stored completion event (every CompletionEvent field), its query type and its feedback."""

    id: str
    object: Literal["analytics.event"]
    query_type: str
    feedback: list[dict[str, Any]]


class EventPage(TypedDict):
    """OpenAI's list shape; pass `next_cursor` as `after` for the next (older) page."""

    object: Literal["list"]
    data: list[EventObject]
    has_more: bool
    next_cursor: str | None


class ExperimentResults(TypedDict):
    """Each arm's measures, each arm against the control, the sample-ratio check and the leader."""

    object: Literal["experiment.results"]
    experiment_id: str
    control: str
    min_sample: int
    enough_data: bool
    leader: str | None
    arms: list[dict[str, Any]]
    comparisons: list[dict[str, Any]]
    sample_ratio: dict[str, Any]


class AnalyticsSettingsObject(TypedDict):
    object: Literal["analytics.settings"]
    keep_message_text: bool


class QueryTypeObject(TypedDict):
    object: Literal["analytics.query_type"]
    name: str
    examples: list[str]
    builtin: bool


class QueryTypeList(TypedDict):
    object: Literal["list"]
    data: list[QueryTypeObject]
    # Below this cosine similarity to every type a query is "other".
    threshold: float


def message_dict(message: Message) -> dict[str, Any]:
    """Every field of `message` by its proto name: unset optional fields as null, 64-bit integers as
    numbers (json_format would make them strings), maps as objects."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            out[field.name] = dict(value)
        elif field.is_repeated:
            out[field.name] = [message_dict(v) if isinstance(v, Message) else v for v in value]
        elif field.message_type is not None:
            out[field.name] = message_dict(value) if message.HasField(field.name) else None
        elif field.has_presence and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = value
    return out


def measures(m: apb.Measures) -> Measures:
    return message_dict(m)  # type: ignore[return-value]


def summary_object(response: apb.GetSummaryResponse, query: ReportQuery) -> Summary:
    return {
        "object": "analytics.summary",
        "from": iso(query.from_ms),
        "to": iso(query.to_ms),
        "group_by": query.group_by,
        "data": [{"group": dict(row.group), **measures(row.measures)} for row in response.rows],  # type: ignore[typeddict-item]
        "total": measures(response.total),
    }


def timeseries_object(response: apb.GetTimeseriesResponse, query: ReportQuery, interval: str) -> Timeseries:
    return {
        "object": "analytics.timeseries",
        "from": iso(query.from_ms),
        "to": iso(query.to_ms),
        "interval": interval,
        "group_by": query.group_by,
        "data": [
            {"bucket_start": iso(p.bucket_start_ms), "group": dict(p.group), **measures(p.measures)}  # type: ignore[typeddict-item]
            for p in response.points
        ],
    }


def event_object(stored: apb.StoredEvent) -> EventObject:
    event: epb.CompletionEvent = stored.event
    body: dict[str, Any] = {"id": event.request_id, "object": "analytics.event", **message_dict(event)}
    body["query_type"] = stored.query_type
    body["feedback"] = [message_dict(f) for f in stored.feedback]
    return body  # type: ignore[return-value]


def event_page(response: apb.ListEventsResponse) -> EventPage:
    return {
        "object": "list",
        "data": [event_object(e) for e in response.events],
        "has_more": response.has_more,
        "next_cursor": response.next_cursor or None,
    }


def experiment_results(response: apb.GetExperimentResultsResponse) -> ExperimentResults:
    return {
        "object": "experiment.results",
        "experiment_id": response.experiment_id,
        "control": response.control,
        "min_sample": response.min_sample,
        "enough_data": response.enough_data,
        "leader": response.leader or None,
        "arms": [message_dict(a) for a in response.arms],
        "comparisons": [message_dict(c) for c in response.comparisons],
        "sample_ratio": message_dict(response.sample_ratio),
    }


def settings_object(settings: apb.AnalyticsSettings) -> AnalyticsSettingsObject:
    return {"object": "analytics.settings", "keep_message_text": settings.keep_message_text}


def query_type_object(query_type: apb.QueryType) -> QueryTypeObject:
    return {
        "object": "analytics.query_type",
        "name": query_type.name,
        "examples": list(query_type.examples),
        "builtin": query_type.builtin,
    }


def query_type_list(response: apb.ListQueryTypesResponse) -> QueryTypeList:
    return {
        "object": "list",
        "data": [query_type_object(q) for q in response.query_types],
        "threshold": response.threshold,
    }


def report_csv(rows: Sequence[dict[str, Any]], group_by: Sequence[str]) -> str:
    """Report rows as CSV: a header line, the group's dimensions first, then the measures
    (errors_by_code as a JSON object in one cell)."""
    buffer = io.StringIO()
    leading = ["bucket_start"] if rows and "bucket_start" in rows[0] else []
    measure_names = [f.name for f in apb.Measures.DESCRIPTOR.fields]
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*leading, *group_by, *measure_names])
    for row in rows:
        cells: list[Any] = [row[name] for name in leading]
        cells += [row["group"].get(name, "") for name in group_by]
        for name in measure_names:
            value = row[name]
            cells.append(
                orjson.dumps(value).decode() if isinstance(value, dict) else ("" if value is None else value)
            )
        writer.writerow(cells)
    return buffer.getvalue()
