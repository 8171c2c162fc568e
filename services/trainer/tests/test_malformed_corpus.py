"""Hostile training files through a real trainer API replica: every kind of malformed file gets a
line-numbered error from ValidateDataset (never an INTERNAL error), and a job created on it fails with
that error without ever being queued."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest

from tuneway.api.trainer.v1 import trainer_pb2 as pb

pytestmark = pytest.mark.integration

USER = {"role": "user", "content": "Where is my parcel?"}
ASSISTANT = {"role": "assistant", "content": "It ships today."}
GOOD_LINES = 11


def good(i: int) -> str:
    return json.dumps(
        {"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": f"A{i}"}]}
    )


def text_with(bad: str, at: int = 4) -> str:
    """GOOD_LINES good examples with `bad` as line `at`, so nothing else is wrong with the file."""
    lines = [good(i) for i in range(GOOD_LINES)]
    lines.insert(at - 1, bad)
    return "\n".join(lines) + "\n"


def with_line(bad: str, at: int = 4) -> bytes:
    return text_with(bad, at).encode()


def chat(*messages: Any, **extra: Any) -> str:
    return json.dumps({"messages": list(messages), **extra})


def good_csv(rows: int = 12) -> bytes:
    return b"question,answer\n" + b"".join(f"q{i},a{i}\n".encode() for i in range(rows))


def zip_bomb() -> bytes:
    """A zip whose one member inflates to 64 MiB of zeros from about 64 KiB: never to be inflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("train.jsonl", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(64):
                member.write(block)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    """A malformed file, the line (0: the whole file) and code of its error and part of the message."""

    name: str
    filename: str
    content: bytes
    line: int
    code: str
    fragment: str


CASES = [
    # Encodings and byte-order marks.
    Case(
        "latin-1",
        "t.jsonl",
        text_with(
            json.dumps({"messages": [USER, {"role": "assistant", "content": "Ça part."}]}, ensure_ascii=False)
        ).encode("latin-1"),
        4,
        "unsupported_format",
        "not UTF-8 text (invalid byte at column",
    ),
    Case("utf-16-bom", "t.jsonl", text_with(good(99)).encode("utf-16"), 1, "unsupported_format", "UTF-16"),
    Case(
        "utf-16-le-no-bom", "t.jsonl", text_with(good(99)).encode("utf-16-le"), 1, "unsupported_format", "NUL"
    ),
    Case(
        "utf-16-be-no-bom", "t.jsonl", text_with(good(99)).encode("utf-16-be"), 1, "unsupported_format", "NUL"
    ),
    Case("utf-32-bom", "t.jsonl", text_with(good(99)).encode("utf-32"), 1, "unsupported_format", "UTF-32"),
    Case(
        "invalid-utf8-byte",
        "t.jsonl",
        with_line(good(99)).replace(b"Q99", b"Q\xff99"),
        4,
        "unsupported_format",
        "invalid byte at column",
    ),
    Case(
        "utf8-sequence-cut-at-the-end",
        "t.jsonl",
        with_line(good(99)) + b"\xe2\x82",
        13,
        "unsupported_format",
        "invalid byte at column 1",
    ),
    Case(
        "utf8-bom-then-a-bad-line",
        "t.jsonl",
        b"\xef\xbb\xbf" + with_line("{oops"),
        4,
        "invalid_json",
        "Expecting property name",
    ),
    Case("bom-mid-file", "t.jsonl", with_line("\ufeff" + good(99)), 4, "invalid_json", "BOM"),
    # Line ends.
    Case("crlf", "t.jsonl", text_with("{oops").replace("\n", "\r\n").encode(), 4, "invalid_json", "column 2"),
    Case(
        "cr-only", "t.jsonl", text_with("{oops").replace("\n", "\r").encode(), 4, "invalid_json", "column 2"
    ),
    # Broken JSON.
    Case("truncated-line", "t.jsonl", with_line(good(99)[:30]), 4, "invalid_json", "invalid JSON"),
    Case(
        "file-cut-mid-object",
        "t.jsonl",
        text_with(good(99)).rstrip("\n")[:-10].encode(),
        12,
        "invalid_json",
        "invalid JSON",
    ),
    Case("trailing-garbage", "t.jsonl", with_line(good(99) + " junk"), 4, "invalid_json", "Extra data"),
    Case("two-objects-one-line", "t.jsonl", with_line(good(98) + good(99)), 4, "invalid_json", "Extra data"),
    Case(
        "json-array-not-jsonl",
        "t.jsonl",
        ("[" + ",\n".join(good(i) for i in range(12)) + "]").encode(),
        1,
        "invalid_json",
        "not a JSON array",
    ),
    Case("line-is-a-string", "t.jsonl", with_line('"hello"'), 4, "invalid_json", "found a string"),
    Case("line-is-null", "t.jsonl", with_line("null"), 4, "invalid_json", "found null"),
    Case("line-is-a-number", "t.jsonl", with_line("12"), 4, "invalid_json", "found a number"),
    Case(
        "duplicate-keys",
        "t.jsonl",
        with_line('{"messages": [{"role": "user", "role": "assistant", "content": "x"}]}'),
        4,
        "invalid_json",
        'duplicate key "role"',
    ),
    Case(
        "number-with-10000-digits",
        "t.jsonl",
        with_line(chat(USER, ASSISTANT)[:-1] + ', "id": ' + "9" * 10_000 + "}"),
        4,
        "invalid_json",
        "too many digits",
    ),
    Case(
        "nan-weight",
        "t.jsonl",
        with_line(chat(USER, ASSISTANT).replace('today."}', 'today.", "weight": NaN}')),
        4,
        "invalid_weight",
        "weight NaN",
    ),
    # Nested junk.
    Case("deep-arrays", "t.jsonl", with_line("[" * 100_000 + "]" * 100_000), 4, "invalid_json", "too deeply"),
    Case(
        "deep-objects",
        "t.jsonl",
        with_line('{"a":' * 100_000 + "1" + "}" * 100_000),
        4,
        "invalid_json",
        "deeply",
    ),
    Case(
        "deep-junk-beside-messages",
        "t.jsonl",
        with_line(chat(USER, ASSISTANT)[:-1] + ', "meta": ' + "[" * 50_000 + "]" * 50_000 + "}"),
        4,
        "invalid_json",
        "too deeply",
    ),
    Case(
        "messages-is-an-object",
        "t.jsonl",
        with_line(json.dumps({"messages": USER})),
        4,
        "missing_messages",
        "non-empty list",
    ),
    Case("messages-is-null", "t.jsonl", with_line('{"messages": null}'), 4, "missing_messages", "non-empty"),
    Case(
        "message-is-an-array",
        "t.jsonl",
        with_line(chat(USER, ["assistant", "x"])),
        4,
        "message_missing_key",
        "must be an object",
    ),
    Case(
        "content-is-a-number",
        "t.jsonl",
        with_line(chat(USER, {"role": "assistant", "content": 42})),
        4,
        "missing_content",
        "found a number",
    ),
    Case(
        "content-is-parts",
        "t.jsonl",
        with_line(chat(USER, {"role": "assistant", "content": [{"type": "text", "text": "x"}]})),
        4,
        "missing_content",
        "found a list",
    ),
    # Roles.
    Case(
        "unknown-role",
        "t.jsonl",
        with_line(chat({"role": "customer", "content": "x"}, ASSISTANT)),
        4,
        "unrecognized_role",
        '"customer"',
    ),
    Case(
        "role-is-a-number",
        "t.jsonl",
        with_line(chat({"role": 1, "content": "x"}, ASSISTANT)),
        4,
        "unrecognized_role",
        "role 1",
    ),
    Case(
        "role-is-an-object",
        "t.jsonl",
        with_line(chat({"role": {"name": "user"}, "content": "x"}, ASSISTANT)),
        4,
        "unrecognized_role",
        "found an object",
    ),
    Case(
        "role-is-10mb",
        "t.jsonl",
        with_line(chat({"role": "u" * 10_000_000, "content": "x"}, ASSISTANT)),
        4,
        "unrecognized_role",
        '"uuuu',
    ),
    Case(
        "tool-role",
        "t.jsonl",
        with_line(chat(USER, {"role": "tool", "content": "{}", "tool_call_id": "c1"}, ASSISTANT)),
        4,
        "unrecognized_role",
        "tool and function calls are not supported",
    ),
    Case(
        "only-a-system-turn",
        "t.jsonl",
        with_line(chat({"role": "system", "content": "x"})),
        4,
        "no_assistant_message",
        "",
    ),
    # Tool calls.
    Case(
        "tool-calls-with-null-content",
        "t.jsonl",
        with_line(chat(USER, {"role": "assistant", "content": None, "tool_calls": [{"id": 1}]})),
        4,
        "unsupported_tool_calls",
        "'tool_calls'",
    ),
    Case(
        "tool-calls-a-string",
        "t.jsonl",
        with_line(chat(USER, {"role": "assistant", "content": "x", "tool_calls": "get_weather(Paris)"})),
        4,
        "unsupported_tool_calls",
        "'tool_calls'",
    ),
    Case(
        "function-call",
        "t.jsonl",
        with_line(chat(USER, {"role": "assistant", "content": "", "function_call": {"name": 3}})),
        4,
        "unsupported_tool_calls",
        "'function_call'",
    ),
    # Empty turns and odd text.
    Case(
        "empty-turn",
        "t.jsonl",
        with_line(chat(USER, {"role": "assistant", "content": ""})),
        4,
        "missing_content",
        "message 2 is empty",
    ),
    Case(
        "control-characters-only",
        "t.jsonl",
        with_line(chat(USER, {"role": "assistant", "content": "\u0001\u0002\u001b"})),
        4,
        "missing_content",
        "is empty",
    ),
    Case(
        "unpaired-surrogate",
        "t.jsonl",
        with_line(
            '{"messages": [{"role": "user", "content": "\\ud800"}, {"role": "assistant", "content": "x"}]}'
        ),
        4,
        "invalid_json",
        "surrogate",
    ),
    Case(
        "unpaired-surrogate-in-completion",
        "t.jsonl",
        b"\n".join(
            [json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}).encode() for i in range(11)]
            + [b'{"prompt": "p", "completion": "\\udfff"}']
        ),
        12,
        "invalid_json",
        "surrogate",
    ),
    # Huge lines.
    Case(
        "huge-user-turn",
        "t.jsonl",
        with_line(chat({"role": "user", "content": "word " * 100_000}, ASSISTANT)),
        4,
        "too_long",
        "none of its trained tokens",
    ),
    Case("huge-junk-line", "t.jsonl", with_line("x" * 8_000_000), 4, "invalid_json", "column 1"),
    # Binary files and archives.
    Case(
        "nul-byte", "t.jsonl", with_line(good(99)).replace(b"Q99", b"Q\x0099"), 4, "unsupported_format", "NUL"
    ),
    Case("binary", "t.jsonl", bytes(range(256)) * 64, 1, "unsupported_format", "NUL byte at column 1"),
    Case(
        "png-named-jsonl",
        "t.jsonl",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(64),
        3,
        "unsupported_format",
        "NUL",
    ),
    Case(
        "gzip-encoded-upload",
        "t.jsonl",
        gzip.compress(text_with(good(99)).encode()),
        1,
        "unsupported_format",
        "not UTF-8 text",
    ),
    Case("zip-bomb-named-jsonl", "t.jsonl", zip_bomb(), 1, "unsupported_format", "NUL"),
    Case("zip-bomb-named-zip", "t.zip", zip_bomb(), 0, "unsupported_format", "unsupported file type .zip"),
    Case("high-bytes-named-csv", "t.csv", bytes(range(128, 256)) * 32, 1, "unsupported_format", "not UTF-8"),
    # Empty files.
    Case("empty", "t.jsonl", b"", 0, "empty_file", "the file is empty"),
    Case("only-blank-lines", "t.jsonl", b"\n\n   \n\t\n", 0, "empty_file", "the file is empty"),
    Case("only-crlf-blank-lines", "t.csv", b"\r\n\r\n\r\n", 0, "empty_file", "the file is empty"),
    Case("only-blank-text", "t.txt", b" \n\n\t\n", 0, "empty_file", "the file is empty"),
    # CSV and text.
    Case("csv-header-only", "t.csv", b"question,answer\n", 1, "empty_file", "header but no rows"),
    Case("csv-without-known-columns", "t.csv", b"foo,bar\n1,2\n", 1, "missing_column", "question column"),
    Case(
        "csv-field-over-the-limit",
        "t.csv",
        good_csv() + b"q," + b"y" * 200_000 + b"\n",
        14,
        "invalid_csv",
        "field larger than field limit",
    ),
    Case("csv-nul", "t.csv", good_csv() + b"q\0,a\n", 14, "unsupported_format", "NUL"),
    Case(
        "csv-empty-answer", "t.csv", good_csv() + b"q,\n", 14, "missing_content", "column 'answer' is empty"
    ),
    Case(
        "markdown-latin-1",
        "t.md",
        "# Café\n\nsur la terrasse".encode("latin-1"),
        1,
        "unsupported_format",
        "not UTF-8",
    ),
]


def test_the_corpus_has_at_least_30_kinds() -> None:
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names) >= 30


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_malformed_file_gets_a_line_numbered_error_and_trains_nothing(
    trainer: Any, tenant: str, case: Case
) -> None:
    file_id = (await trainer.register(tenant, case.content, case.filename)).dataset.file_id
    report = (
        await trainer.stub.ValidateDataset(pb.ValidateDatasetRequest(tenant_id=tenant, file_id=file_id))
    ).report
    found = [(e.line, e.code) for e in report.errors]
    assert not report.ok and (case.line, case.code) in found, found
    error = next(e for e in report.errors if (e.line, e.code) == (case.line, case.code))
    assert case.fragment in error.message, error.message
    # The error names its line as OpenAI's messages do; a whole-file problem names none.
    assert error.message.startswith(f"line {case.line}: ") == (case.line > 0)
    # A report never repeats a hostile file back at length.
    assert all(len(e.message) < 400 for e in report.errors)
    assert report.train_examples == 0 and report.estimated_steps == 0

    created = (await trainer.stub.CreateJob(pb.CreateJobRequest(tenant_id=tenant, training_file=file_id))).job
    job = await trainer.wait_job(tenant, created.id, ("failed", "queued"), within=60)
    assert job.status == "failed"
    assert (job.error.code, job.error.param) == ("invalid_training_file", "training_file")
    assert error.message in job.error.message
    assert job.fine_tuned_model == "" and job.trained_tokens == 0
    # Nothing was queued for a worker, so nothing can train or be registered.
    messages = [event.message for event in await trainer.events(tenant, job.id)]
    assert not any("queued" in message.lower() for message in messages), messages
