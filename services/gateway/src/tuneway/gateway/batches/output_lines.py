"""The lines of a batch's output and error files, as OpenAI writes them: {"id", "custom_id",
"response": {"status_code", "request_id", "body"} | null, "error": {"code", "message"} | null}. A request
the endpoint answered (2xx or an error status) has a `response`; a line never sent has an `error`."""

from __future__ import annotations

import secrets
from typing import Any

import orjson


def new_line_id() -> str:
    """batch_req_<24 hex>."""
    return f"batch_req_{secrets.token_hex(12)}"


def response_line(custom_id: str, status_code: int, request_id: str, body: Any) -> str:
    """The line of a request the endpoint answered."""
    line = {
        "id": new_line_id(),
        "custom_id": custom_id,
        "response": {"status_code": status_code, "request_id": request_id, "body": body},
        "error": None,
    }
    return orjson.dumps(line).decode()


def error_line(custom_id: str | None, code: str, message: str) -> str:
    """The line of a request that was never sent (malformed, or the batch expired before it)."""
    line = {
        "id": new_line_id(),
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }
    return orjson.dumps(line).decode()
