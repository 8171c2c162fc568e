"""Dataset formats: chat, prompt/completion, CSV/TSV and text/markdown parse into the right examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuneway.trainer.datasets import PreparedDataset, PrepareOptions, prepare_dataset


@pytest.fixture(scope="module")
def tokenizer(demo_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(demo_model)


def prepare(tmp_path: Path, tokenizer: Any, name: str, content: str, **options: Any) -> PreparedDataset:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return prepare_dataset(path, filename=name, tokenizer=tokenizer, options=PrepareOptions(**options))


def trained_text(tokenizer: Any, row: dict[str, Any]) -> str:
    return tokenizer.decode([t for t, m in zip(row["input_ids"], row["assistant_masks"], strict=True) if m])


def test_chat_jsonl(tmp_path: Path, tokenizer: Any) -> None:
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": f"Q{i}?"},
                    {"role": "assistant", "content": f"Answer {i}."},
                ]
            }
        )
        for i in range(12)
    ]
    result = prepare(tmp_path, tokenizer, "chat.jsonl", "\n".join(lines) + "\n")
    assert result.report.ok, result.report.errors
    assert (result.report.format, result.report.lines, result.report.examples) == ("chat", 12, 12)
    assert len(result.train) == 12 and result.validation == []
    assert result.train[3]["messages"][2] == {"role": "assistant", "content": "Answer 3."}
    assert trained_text(tokenizer, result.train[3]) == "Answer 3.<|end|>"


def test_prompt_completion_becomes_a_user_and_an_assistant_turn(tmp_path: Path, tokenizer: Any) -> None:
    lines = [json.dumps({"prompt": f"What is {i}?", "completion": f" It is {i}. "}) for i in range(10)]
    result = prepare(tmp_path, tokenizer, "pc.json", "\n".join(lines))
    assert result.report.ok, result.report.errors
    assert result.report.format == "prompt_completion"
    assert result.train[0]["messages"] == [
        {"role": "user", "content": "What is 0?"},
        {"role": "assistant", "content": "It is 0."},
    ]
    assert trained_text(tokenizer, result.train[0]) == "It is 0.<|end|>"


def test_csv_with_aliases_quoted_newlines_and_system_column(tmp_path: Path, tokenizer: Any) -> None:
    rows = ["Input,Output,System"]
    rows += [f'"Question {i}?","Answer {i}.",' for i in range(9)]
    rows += ['"Multi\nline question?","Multi\nline answer.",Be kind.']
    result = prepare(tmp_path, tokenizer, "qa.csv", "\r\n".join(rows) + "\r\n")
    assert result.report.ok, result.report.errors
    assert (result.report.format, result.report.examples) == ("delimited", 10)
    assert result.train[-1]["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Multi\nline question?"},
        {"role": "assistant", "content": "Multi\nline answer."},
    ]
    assert [m["role"] for m in result.train[0]["messages"]] == ["user", "assistant"]


def test_csv_line_numbers_count_the_header_and_quoted_newlines(tmp_path: Path, tokenizer: Any) -> None:
    rows = ["question,answer", '"two\nlines",fine', "", "third,", *[f"q{i},a{i}" for i in range(10)]]
    result = prepare(tmp_path, tokenizer, "qa.csv", "\n".join(rows) + "\n")
    assert [(e.line, e.code) for e in result.report.errors] == [(5, "missing_content")]
    assert result.report.errors[0].message == "line 5: column 'answer' is empty"


def test_tsv(tmp_path: Path, tokenizer: Any) -> None:
    rows = ["Q\tA", *[f"question {i}, with a comma\tanswer {i}" for i in range(10)]]
    result = prepare(tmp_path, tokenizer, "qa.tsv", "\n".join(rows))
    assert result.report.ok, result.report.errors
    assert result.train[0]["messages"][0]["content"] == "question 0, with a comma"


def test_text_becomes_fully_trained_chunks_at_paragraph_boundaries(tmp_path: Path, tokenizer: Any) -> None:
    paragraphs = [f"Paragraph {i} says something about tents and boots." for i in range(30)]
    result = prepare(tmp_path, tokenizer, "notes.txt", "\n\n".join(paragraphs) + "\n", max_seq_length=64)
    report = result.report
    assert report.ok and report.format == "text", report.errors
    assert report.examples > 1 and report.tokens.max <= 64
    texts = []
    for row in result.train:
        assert row["messages"] is None and set(row["assistant_masks"]) == {1}
        assert row["input_ids"][-1] == tokenizer.eos_token_id
        texts.append(tokenizer.decode(row["input_ids"][:-1]))
    # Every chunk is whole paragraphs, and together they are the document in order.
    assert "\n\n".join(texts) == "\n\n".join(paragraphs)


def test_markdown_keeps_headings_with_their_section(tmp_path: Path, tokenizer: Any) -> None:
    section = "Tents are returned dry and clean.\nPoles go in the bag."
    doc = (
        "# Returns\n## Tents\n" + section + "\n```\ncode\n\nblock\n```\n## Boots\n\nBoots have a warranty.\n"
    )
    result = prepare(tmp_path, tokenizer, "guide.md", doc, max_seq_length=60)
    texts = [tokenizer.decode(row["input_ids"][:-1]) for row in result.train]
    for text in texts:
        assert not text.rstrip().split("\n")[-1].startswith("#"), f"chunk ends on a heading: {text!r}"
    assert any(t.startswith("## Boots\n\nBoots have a warranty.") for t in texts), texts
    assert any("code\n\nblock" in t for t in texts), "a blank line inside a code fence splits nothing"


def test_long_paragraph_is_split_with_a_warning(tmp_path: Path, tokenizer: Any) -> None:
    result = prepare(tmp_path, tokenizer, "long.txt", "\n\nintro\n\n" + "word " * 200, max_seq_length=50)
    assert result.report.ok
    assert [(w.line, w.code) for w in result.report.warnings] == [(5, "paragraph_split")]
    assert all(len(row["input_ids"]) <= 50 for row in result.train)


def test_long_paragraph_is_cut_at_line_ends_first(tmp_path: Path, tokenizer: Any) -> None:
    lines = [f"Line {i} of a long paragraph." for i in range(30)]
    result = prepare(tmp_path, tokenizer, "lines.txt", "\n".join(lines), max_seq_length=50)
    texts = [tokenizer.decode(row["input_ids"][:-1]) for row in result.train]
    assert len(texts) > 1 and "\n".join(texts) == "\n".join(lines)
