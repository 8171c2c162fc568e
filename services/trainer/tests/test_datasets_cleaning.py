"""Cleaning: unicode and whitespace normalisation, duplicate removal and PII scrubbing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuneway.trainer.datasets import PreparedDataset, PrepareOptions, prepare_dataset
from tuneway.trainer.datasets.cleaning import normalise_text, scrub_pii


@pytest.fixture(scope="module")
def tokenizer(demo_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(demo_model)


def prepare(tmp_path: Path, tokenizer: Any, lines: list[str], **options: Any) -> PreparedDataset:
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    return prepare_dataset(
        path, filename="train.jsonl", tokenizer=tokenizer, options=PrepareOptions(**options)
    )


def pair(question: str, answer: str) -> str:
    return json.dumps(
        {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}
    )


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Cafe\u0301", "Café"),  # NFC: e + combining accent becomes one character
        ("  a \t\t b   c  ", "a b c"),
        ("one\r\ntwo\rthree\u2028four", "one\ntwo\nthree\nfour"),
        ("para one\n\n\n\n\npara two", "para one\n\npara two"),
        ("list:\n  - indented  item   \n  - next", "list:\n  - indented item\n  - next"),
        ("nul\x00 and escape\x1b[0m gone", "nul and escape[0m gone"),
        ("\n\n  \n", ""),
    ],
)
def test_normalise_text(raw: str, clean: str) -> None:
    assert normalise_text(raw) == clean


def test_duplicates_after_normalisation_are_removed_with_a_warning(tmp_path: Path, tokenizer: Any) -> None:
    lines = [pair(f"Question {i}?", f"Answer {i}.") for i in range(11)]
    lines.insert(5, pair("  Question  2?", "Answer 2.\t"))
    lines.insert(9, pair("Question 7?", "Answer 7."))
    report = prepare(tmp_path, tokenizer, lines).report
    assert report.ok and report.examples == 11 and report.duplicates_removed == 2
    assert [(w.line, w.code, w.message) for w in report.warnings] == [
        (6, "duplicate", "line 6: duplicate of the example on line 3; removed"),
        (10, "duplicate", "line 10: duplicate of the example on line 9; removed"),
    ]


def test_duplicates_do_not_rescue_too_few_examples(tmp_path: Path, tokenizer: Any) -> None:
    lines = [pair(f"Question {i}?", "Same.") for i in range(9)] + [pair("Question 0?", "Same.")] * 3
    report = prepare(tmp_path, tokenizer, lines).report
    assert [e.code for e in report.errors] == ["too_few_examples"]


KEEP = [
    "Your order #100234 costs $1,299.00 and ships on 2024-05-31.",
    "Order NL-2024-000123, tracking 1Z999AA10123456784, EAN 4006381333931.",
    "Article 12345678 is 1.299,00 € or 3x 19.99 EUR; version 1.2.3 on 192.168.10.200.",
    "Open 9-17 Mon-Fri, 12 345 units in stock, call us in 2 days, sizes 38-46.",
    "Invoice 2024/000981 over 349.90 euros, customer number 88123456.",
]
SCRUB = [
    ("Write to anna.berg+shop@example.co.uk today.", "Write to [email] today."),
    ("Call +49 30 1234567 or +1 (555) 123-4567.", "Call [phone] or [phone]."),
    ("Hotline 030 12345678, mobile 0171-1234567.", "Hotline [phone], mobile [phone]."),
    ("US office: (555) 123-4567 or 555.123.4567", "US office: [phone] or [phone]"),
]


@pytest.mark.parametrize("text", KEEP)
def test_scrubbing_keeps_ordinary_numbers(text: str) -> None:
    assert scrub_pii(text) == (text, 0)


@pytest.mark.parametrize(("raw", "scrubbed"), SCRUB)
def test_scrubbing_replaces_emails_and_phones(raw: str, scrubbed: str) -> None:
    assert scrub_pii(raw) == (scrubbed, scrubbed.count("["))


def test_pii_scrubbing_in_prepare_counts_redactions(tmp_path: Path, tokenizer: Any) -> None:
    lines = [
        pair(f"My mail is user{i}@example.com, order #{1000 + i}", "Thanks, we call +44 20 7946 0958.")
        for i in range(10)
    ]
    scrubbed = prepare(tmp_path, tokenizer, lines, scrub_pii=True)
    assert scrubbed.report.ok and scrubbed.report.pii_redactions == 20
    assert scrubbed.train[0]["messages"] == [
        {"role": "user", "content": "My mail is [email], order #1000"},
        {"role": "assistant", "content": "Thanks, we call [phone]."},
    ]
    plain = prepare(tmp_path, tokenizer, lines)
    assert (
        plain.report.pii_redactions == 0 and "user0@example.com" in plain.train[0]["messages"][0]["content"]
    )
