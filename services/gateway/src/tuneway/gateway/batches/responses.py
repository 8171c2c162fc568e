"""Batch rows as OpenAI's `batch` objects."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.gateway.batches.tables import Batch


class BatchErrorItem(TypedDict):
    """One validation error of the input file, with its line number when it concerns a line."""

    code: str | None
    message: str | None
    param: str | None
    line: int | None


class BatchErrors(TypedDict):
    """OpenAI's `errors` list of a batch."""

    object: Literal["list"]
    data: list[BatchErrorItem]


class RequestCounts(TypedDict):
    """How many of the batch's requests succeeded, failed, and exist in all."""

    total: int
    completed: int
    failed: int


class InputTokensDetails(TypedDict):
    cached_tokens: int


class OutputTokensDetails(TypedDict):
    reasoning_tokens: int


class BatchUsage(TypedDict):
    """Tokens of the batch's successful requests."""

    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


class BatchObject(TypedDict):
    """OpenAI's `batch`."""

    id: str
    object: Literal["batch"]
    endpoint: str
    model: str | None
    errors: BatchErrors | None
    input_file_id: str
    completion_window: str
    status: str
    output_file_id: str | None
    error_file_id: str | None
    created_at: int
    in_progress_at: int | None
    expires_at: int | None
    finalizing_at: int | None
    completed_at: int | None
    failed_at: int | None
    expired_at: int | None
    cancelling_at: int | None
    cancelled_at: int | None
    request_counts: RequestCounts
    usage: BatchUsage
    metadata: dict[str, str] | None


def _errors(data: list[dict[str, Any]] | None) -> BatchErrors | None:
    if not data:
        return None
    items: list[BatchErrorItem] = [
        {"code": e.get("code"), "message": e.get("message"), "param": e.get("param"), "line": e.get("line")}
        for e in data
    ]
    return {"object": "list", "data": items}


def batch_object(row: Batch) -> BatchObject:
    """OpenAI's `batch` object of a row."""
    return {
        "id": row.id,
        "object": "batch",
        "endpoint": row.endpoint,
        "model": row.model,
        "errors": _errors(row.errors),
        "input_file_id": row.input_file_id,
        "completion_window": row.completion_window,
        "status": row.status,
        "output_file_id": row.output_file_id,
        "error_file_id": row.error_file_id,
        "created_at": row.created_at,
        "in_progress_at": row.in_progress_at,
        "expires_at": row.expires_at,
        "finalizing_at": row.finalizing_at,
        "completed_at": row.completed_at,
        "failed_at": row.failed_at,
        "expired_at": row.expired_at,
        "cancelling_at": row.cancelling_at,
        "cancelled_at": row.cancelled_at,
        "request_counts": {"total": row.total, "completed": row.completed, "failed": row.failed},
        "usage": {
            "input_tokens": row.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": row.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": row.input_tokens + row.output_tokens,
        },
        "metadata": row.batch_metadata,
    }
