"""A batch's input file line by line: a malformed line fails alone, naming its line and field; only a
file with no request fails the batch."""

from __future__ import annotations

import json

import pytest

from tuneway.gateway.batches.input_lines import InvalidInputFile, LineError, Request, parse

CHAT = "/v1/chat/completions"


def _line(custom_id: str, url: str = CHAT, **extra: object) -> str:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": {"model": "m"}, **extra})


def test_good_lines_are_requests_and_bad_ones_errors_with_their_line_number() -> None:
    text = "\n".join(
        [
            _line("a"),
            "",  # blank lines are skipped, but counted for the line numbers
            "not json",
            _line("b", url="/v1/embeddings"),
            _line("a"),
            '{"method": "POST"}',
            _line("c", extra=1),
            '{"custom_id": "d", "method": "GET", "url": "/v1/chat/completions", "body": {}}',
            '{"custom_id": "e", "method": "POST", "url": "/v1/chat/completions", "body": []}',
            _line("f"),
        ]
    )
    parsed = parse(text.encode(), CHAT)
    assert [item.line for item in parsed] == [1, 3, 4, 5, 6, 7, 8, 9, 10]
    assert isinstance(parsed[0], Request) and parsed[0].custom_id == "a" and parsed[0].body == {"model": "m"}
    assert isinstance(parsed[-1], Request) and parsed[-1].custom_id == "f"
    errors = [(e.line, e.custom_id, e.code, e.param) for e in parsed if isinstance(e, LineError)]
    assert errors == [
        (3, None, "invalid_json_line", None),
        (4, "b", "invalid_value", "url"),
        (5, "a", "duplicate_custom_id", "custom_id"),
        (6, None, "missing_required_parameter", "custom_id"),
        (7, "c", "unknown_parameter", "extra"),
        (8, "d", "invalid_value", "method"),
        (9, "e", "invalid_value", "body"),
    ]
    assert all(e.message.startswith(f"Line {e.line}: ") for e in parsed if isinstance(e, LineError))


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "empty_file"), (b"\n  \n", "empty_file"), (b"\xff\xfe", "invalid_file")],
)
def test_a_file_without_requests_fails_the_batch(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInputFile) as failed:
        parse(data, CHAT)
    assert failed.value.code == code
