"""The query string of the analytics reports: a time window (ISO 8601 or Unix seconds, default the last
7 days), group_by dimensions, exact filters by dimension name, and nothing else (an unknown parameter
is a 400 naming it: a misspelt filter must not silently widen a report)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tuneway.core.errors import InvalidArgumentError

# Dimension names of analytics.proto: group_by values and filter parameters.
DIMENSIONS = (
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
DEFAULT_DAYS = 7
WINDOW_PARAMS = ("from", "to")


@dataclass(frozen=True)
class ReportQuery:
    """A parsed report query: [from_ms, to_ms), dimensions to group by, dimension -> exact value."""

    from_ms: int
    to_ms: int
    group_by: list[str]
    filters: dict[str, str]


def check_known(params: Iterable[str], allowed: Iterable[str]) -> None:
    """400 naming the first query parameter that is not in `allowed`."""
    known = set(allowed)
    for name in params:
        if name not in known:
            raise InvalidArgumentError(
                f"Unrecognized query parameter: {name}.", param=name, code="unknown_parameter"
            )


def parse_time(value: str, param: str) -> int:
    """Unix milliseconds of an ISO 8601 time (UTC unless it says otherwise) or of Unix seconds."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidArgumentError(
                f"Invalid value for '{param}': use ISO 8601 (2025-01-31T12:00:00Z) or Unix seconds.",
                param=param,
                code="invalid_value",
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidArgumentError(
            f"Invalid value for '{param}': Unix seconds must be a non-negative number.",
            param=param,
            code="invalid_value",
        )
    return int(seconds * 1000)


def parse_dimensions(value: str, param: str) -> list[str]:
    """Comma-separated dimension names, each known and named once."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        if name not in DIMENSIONS:
            raise InvalidArgumentError(
                f"Invalid value for '{param}': unknown dimension '{name}'; "
                f"use any of {', '.join(DIMENSIONS)}.",
                param=param,
                code="invalid_value",
            )
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"'{param}' names a dimension twice.", param=param, code="invalid_value")
    return names


def report_query(
    params: Mapping[str, str], extra: Iterable[str] = (), *, group_by: bool = True
) -> ReportQuery:
    """The window, group_by and filters of `params`; `extra` are the route's own other parameters."""
    allowed = [*WINDOW_PARAMS, *DIMENSIONS, *extra, *(["group_by"] if group_by else [])]
    check_known(params.keys(), allowed)
    now_ms = int(time.time() * 1000)
    to_ms = parse_time(params["to"], "to") if "to" in params else now_ms
    from_ms = parse_time(params["from"], "from") if "from" in params else to_ms - DEFAULT_DAYS * 86_400_000
    if from_ms >= to_ms:
        raise InvalidArgumentError("'from' must be before 'to'.", param="from", code="invalid_value")
    dims = parse_dimensions(params.get("group_by", ""), "group_by") if group_by else []
    filters = {name: params[name] for name in DIMENSIONS if name in params}
    return ReportQuery(from_ms, to_ms, dims, filters)


def iso(ms: int) -> str:
    """An ISO 8601 UTC time of Unix milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def report_parameters(*extra: dict[str, Any], group_by: bool = True) -> dict[str, Any]:
    """`openapi_extra` documenting the parameters the route parses itself."""
    parameters: list[dict[str, Any]] = [
        _param("from", "Start (inclusive): ISO 8601 or Unix seconds; default: 7 days before `to`."),
        _param("to", "End (exclusive): ISO 8601 or Unix seconds; default: now."),
    ]
    if group_by:
        parameters.append(_param("group_by", f"Comma-separated dimensions: {', '.join(DIMENSIONS)}."))
    parameters += [_param(name, f"Only requests whose {name} is this value.") for name in DIMENSIONS]
    return {"parameters": [*parameters, *extra]}


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One more documented query parameter."""
    return _param(name, description, schema)
