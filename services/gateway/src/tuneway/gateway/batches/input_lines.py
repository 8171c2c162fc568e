"""A batch's input file, line by line: each line a request `{custom_id, method, url, body}` or the error
that fails that line (never the whole batch); only a file with no request at all fails the batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

# OpenAI's limit of requests per batch.
MAX_LINES = 50_000
_FIELDS = ("custom_id", "method", "url", "body")


@dataclass(frozen=True)
class Request:
    """A well-formed line: what to call, with the body the endpoint validates as it would over HTTP."""

    line: int
    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class LineError:
    """A line that cannot be run, OpenAI's `errors.data` item; the custom_id when it has one."""

    line: int
    custom_id: str | None
    code: str
    message: str
    param: str | None

    def as_dict(self) -> dict[str, Any]:
        """The item of the batch's `errors.data`."""
        return {"code": self.code, "message": self.message, "param": self.param, "line": self.line}


class InvalidInputFile(Exception):
    """The file as a whole cannot be a batch (not UTF-8, no request, too many): the batch fails."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse(data: bytes, endpoint: str) -> list[Request | LineError]:
    """Every non-blank line of the file, numbered from 1 as editors count them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInputFile("invalid_file", f"The input file is not UTF-8 text: {error}.") from None
    lines = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    if not lines:
        raise InvalidInputFile("empty_file", "The input file holds no requests.")
    if len(lines) > MAX_LINES:
        raise InvalidInputFile(
            "too_many_requests", f"The input file holds {len(lines)} requests; a batch takes {MAX_LINES}."
        )
    seen: set[str] = set()
    parsed: list[Request | LineError] = []
    for number, raw in lines:
        item = _parse_line(number, raw, endpoint, seen)
        if isinstance(item, Request):
            seen.add(item.custom_id)
        parsed.append(item)
    return parsed


def _parse_line(number: int, raw: str, endpoint: str, seen: set[str]) -> Request | LineError:
    def error(code: str, message: str, param: str | None, custom_id: str | None = None) -> LineError:
        return LineError(number, custom_id, code, f"Line {number}: {message}", param)

    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return error("invalid_json_line", "not valid JSON.", None)
    if not isinstance(value, dict):
        return error("invalid_json_line", "not a JSON object.", None)
    custom_id = value.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return error("missing_required_parameter", "'custom_id' must be a non-empty string.", "custom_id")
    unknown = sorted(set(value) - set(_FIELDS))
    if unknown:
        return error("unknown_parameter", f"unrecognized field '{unknown[0]}'.", unknown[0], custom_id)
    if custom_id in seen:
        return error("duplicate_custom_id", f"custom_id '{custom_id}' is used twice.", "custom_id", custom_id)
    if value.get("method") != "POST":
        return error("invalid_value", "'method' must be 'POST'.", "method", custom_id)
    url = value.get("url")
    if url != endpoint:
        return error(
            "invalid_value",
            f"'url' is {url!r}; every line must call the batch's endpoint '{endpoint}'.",
            "url",
            custom_id,
        )
    body = value.get("body")
    if not isinstance(body, dict):
        return error("invalid_value", "'body' must be a JSON object.", "body", custom_id)
    return Request(number, custom_id, body)
