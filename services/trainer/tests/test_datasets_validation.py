"""Validation: every malformed kind gets its OpenAI-style code on the right line, for the whole file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuneway.trainer.datasets import PreparedDataset, PrepareOptions, prepare_dataset
from tuneway.trainer.datasets.report import MAX_LISTED


@pytest.fixture(scope="module")
def tokenizer(demo_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(demo_model)


def prepare(
    tmp_path: Path, tokenizer: Any, name: str, content: str | bytes, **options: Any
) -> PreparedDataset:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return prepare_dataset(path, filename=name, tokenizer=tokenizer, options=PrepareOptions(**options))


def good(i: int) -> str:
    return json.dumps(
        {"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": f"A{i}"}]}
    )


def with_bad_line(bad: str, at: int = 4) -> str:
    """Eleven good examples with `bad` as line `at`, so nothing else is wrong with the file."""
    lines = [good(i) for i in range(11)]
    lines.insert(at - 1, bad)
    return "\n".join(lines) + "\n"


def message_line(*messages: Any, **extra: Any) -> str:
    return json.dumps({"messages": list(messages), **extra})


USER = {"role": "user", "content": "Where is my parcel?"}
ASSISTANT = {"role": "assistant", "content": "It ships today."}

MALFORMED = [
    (
        "{not json",
        "invalid_json",
        "line 4: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
    ),
    ("[1, 2]", "invalid_json", "line 4: expected a JSON object, found a list"),
    (json.dumps({"conversation": []}), "missing_messages", "line 4: example is missing the 'messages' list"),
    (
        json.dumps({"messages": []}),
        "missing_messages",
        "line 4: 'messages' must be a non-empty list of messages",
    ),
    (message_line(USER, {"content": "x"}), "message_missing_key", "line 4: message 2 is missing key 'role'"),
    (
        message_line(USER, {"role": "assistant"}),
        "message_missing_key",
        "line 4: message 2 is missing key 'content'",
    ),
    (
        message_line(USER, "hello"),
        "message_missing_key",
        "line 4: message 2 must be an object with 'role' and 'content'",
    ),
    (
        message_line({"role": "customer", "content": "x"}, ASSISTANT),
        "unrecognized_role",
        'line 4: message 1 has unrecognized role "customer"; use system, user or assistant',
    ),
    (
        message_line(USER, {"role": "assistant", "content": None}),
        "missing_content",
        "line 4: message 2 content must be text, found null",
    ),
    (
        message_line(USER, {"role": "assistant", "content": " \n\t "}),
        "missing_content",
        "line 4: message 2 is empty",
    ),
    (message_line(USER), "no_assistant_message", "line 4: example has no assistant message to train on"),
    (
        message_line(USER, {**ASSISTANT, "weight": 2}),
        "invalid_weight",
        "line 4: message 2 has weight 2; use 0 or 1",
    ),
    (
        message_line(USER, {**ASSISTANT, "weight": True}),
        "invalid_weight",
        "line 4: message 2 has weight true; use 0 or 1",
    ),
    (
        message_line({**USER, "weight": 1}, ASSISTANT),
        "invalid_weight",
        "line 4: message 1: weight is only allowed on assistant messages",
    ),
    (
        message_line(USER, {**ASSISTANT, "weight": 0}),
        "invalid_weight",
        "line 4: every assistant message has weight 0, so nothing would be trained",
    ),
    (
        json.dumps({"prompt": "a", "completion": "b"}),
        "mixed_format",
        "line 4: prompt/completion example in a chat file; use one format per file",
    ),
]


@pytest.mark.parametrize(
    ("bad", "code", "message"), MALFORMED, ids=[f"{m[1]}-{i}" for i, m in enumerate(MALFORMED)]
)
def test_malformed_chat_line(tmp_path: Path, tokenizer: Any, bad: str, code: str, message: str) -> None:
    result = prepare(tmp_path, tokenizer, "train.jsonl", with_bad_line(bad))
    report = result.report
    assert not report.ok and result.train == [] and result.validation == []
    assert [(e.line, e.code, e.message) for e in report.errors] == [(4, code, message)]


def test_every_error_in_the_file_is_reported(tmp_path: Path, tokenizer: Any) -> None:
    lines = [good(i) for i in range(12)]
    lines[1] = "{"
    lines[6] = message_line(USER)
    lines[9] = message_line({"role": "tool", "content": "x"}, {"role": "user"})
    report = prepare(tmp_path, tokenizer, "train.jsonl", "\n".join(lines)).report
    assert [(e.line, e.code) for e in report.errors] == [
        (2, "invalid_json"),
        (7, "no_assistant_message"),
        (10, "unrecognized_role"),
        (10, "message_missing_key"),
    ]
    assert "tool and function calls are not supported" in report.errors[2].message


def test_error_list_is_capped_with_a_note(tmp_path: Path, tokenizer: Any) -> None:
    report = prepare(tmp_path, tokenizer, "train.jsonl", "{\n" * (MAX_LISTED + 25)).report
    assert len(report.errors) == MAX_LISTED + 1
    assert report.errors[-1].code == "too_many_errors" and report.errors[-1].message.startswith(
        "25 more errors"
    )


def test_prompt_completion_errors(tmp_path: Path, tokenizer: Any) -> None:
    lines = [json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}) for i in range(11)]
    lines[2] = json.dumps({"prompt": "p"})
    lines[5] = json.dumps({"prompt": "p", "completion": 5})
    lines[7] = json.dumps({"prompt": "p", "completion": "   "})
    lines[8] = message_line(USER, ASSISTANT)
    report = prepare(tmp_path, tokenizer, "pc.jsonl", "\n".join(lines)).report
    assert [(e.line, e.code, e.message) for e in report.errors] == [
        (3, "message_missing_key", "line 3: example is missing key 'completion'"),
        (6, "missing_content", "line 6: 'completion' must be text, found a number"),
        (8, "missing_content", "line 8: 'completion' is empty"),
        (9, "mixed_format", "line 9: chat example in a prompt/completion file; use one format per file"),
    ]


def test_csv_missing_column(tmp_path: Path, tokenizer: Any) -> None:
    report = prepare(tmp_path, tokenizer, "qa.csv", "\n\nquestion,reply\nq,a\n").report
    assert [(e.line, e.code) for e in report.errors] == [(3, "missing_column")]
    assert "no answer column (name it one of answer, completion, a, output); found 'question', 'reply'" in (
        report.errors[0].message
    )


@pytest.mark.parametrize(
    ("name", "content", "code", "line"),
    [
        ("empty.jsonl", "", "empty_file", 0),
        ("blank.jsonl", "\n  \n", "empty_file", 0),
        ("header.csv", "question,answer\n", "empty_file", 1),
        ("empty.md", "\n\n", "empty_file", 0),
        ("data.xlsx", "whatever", "unsupported_format", 0),
        ("noext", "{}", "unsupported_format", 0),
        ("bad.jsonl", b'{"messages": []}\n{"x": "\xff"}\n', "unsupported_format", 2),
        ("few.jsonl", "\n".join(good(i) for i in range(9)), "too_few_examples", 0),
    ],
)
def test_file_level_errors(
    tmp_path: Path, tokenizer: Any, name: str, content: Any, code: str, line: int
) -> None:
    report = prepare(tmp_path, tokenizer, name, content).report
    assert [(e.line, e.code) for e in report.errors] == [(line, code)], report.errors


def test_array_instead_of_jsonl_gets_a_hint(tmp_path: Path, tokenizer: Any) -> None:
    report = prepare(tmp_path, tokenizer, "train.json", "[" + good(0) + "]").report
    assert "one JSON object per line (JSONL), not a JSON array" in report.errors[0].message


def test_too_few_counts_broken_lines_as_examples(tmp_path: Path, tokenizer: Any) -> None:
    lines = [good(i) for i in range(10)]
    lines[0] = "{"
    report = prepare(tmp_path, tokenizer, "train.jsonl", "\n".join(lines)).report
    assert [e.code for e in report.errors] == ["invalid_json"]


def test_truncation_is_a_warning_and_nothing_trainable_an_error(tmp_path: Path, tokenizer: Any) -> None:
    long_answer = {"role": "assistant", "content": "word " * 80}
    long_question = {"role": "user", "content": "word " * 80}
    lines = [good(i) for i in range(11)]
    lines[2] = message_line(USER, long_answer)
    ok = prepare(tmp_path, tokenizer, "train.jsonl", "\n".join(lines), max_seq_length=40)
    assert ok.report.ok and ok.report.truncated == 1
    assert [(w.line, w.code) for w in ok.report.warnings] == [(3, "truncated")]
    assert "truncated to 40 tokens (max_seq_length)" in ok.report.warnings[0].message
    row = ok.report.examples and ok.train[2]
    assert len(row["input_ids"]) == 40 and len(row["assistant_masks"]) == 40 and any(row["assistant_masks"])
    assert ok.report.tokens.max == 40

    lines[5] = message_line(long_question, ASSISTANT)
    bad = prepare(tmp_path, tokenizer, "train.jsonl", "\n".join(lines), max_seq_length=40).report
    assert [(e.line, e.code) for e in bad.errors] == [(6, "too_long")]
    assert "none of its trained tokens fall within max_seq_length (40 tokens)" in bad.errors[0].message


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="validation_split"):
        PrepareOptions(validation_split=1.0)
    with pytest.raises(ValueError, match="max_seq_length"):
        PrepareOptions(max_seq_length=0)


def test_min_examples_can_be_lowered_for_validation_files(tmp_path: Path, tokenizer: Any) -> None:
    content = "\n".join(good(i) for i in range(3))
    assert prepare(tmp_path, tokenizer, "val.jsonl", content, min_examples=1, validation_split=0).report.ok
