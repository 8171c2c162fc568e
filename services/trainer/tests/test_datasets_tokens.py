"""Tokenization for TRL: masks cover exactly the trained assistant tokens; split; the shipped dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuneway.trainer.datasets import ChatTemplateError, PreparedDataset, PrepareOptions, prepare_dataset
from tuneway.trainer.datasets.chat_tokens import tokenize_chat

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "datasets" / "shop-support.jsonl"
CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Where is my parcel?"},
    {"role": "assistant", "content": "It ships today.", "weight": 0},
    {"role": "user", "content": "And the refund?"},
    {"role": "assistant", "content": "Within 5 days.\nPromised."},
    {"role": "user", "content": "Thanks!"},
    {"role": "assistant", "content": "You are welcome."},
]


@pytest.fixture(scope="module")
def tokenizer(demo_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(demo_model)


@pytest.fixture
def plain_template_tokenizer(demo_model: Path) -> Any:
    """The demo tokenizer with a template like most hub models': no {% generation %} blocks."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    template = tokenizer.chat_template.replace("{% generation %}", "").replace("{% endgeneration %}", "")
    assert "{% generation %}" not in template
    tokenizer.chat_template = template
    return tokenizer


def prepare(path: Path, tokenizer: Any, **options: Any) -> PreparedDataset:
    return prepare_dataset(path, filename=path.name, tokenizer=tokenizer, options=PrepareOptions(**options))


def masked(tokenizer: Any, ids: list[int], mask: list[int]) -> str:
    return tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])


def test_mask_is_exactly_the_weighted_assistant_turns(tokenizer: Any) -> None:
    ids, mask = tokenize_chat(tokenizer, CONVERSATION)
    assert masked(tokenizer, ids, mask) == "Within 5 days.\nPromised.<|end|>You are welcome.<|end|>"
    # The ids are what the template gives, so training sees what serving renders.
    rendered = tokenizer.apply_chat_template([{k: m[k] for k in ("role", "content")} for m in CONVERSATION])
    assert ids == list(rendered["input_ids"])
    unweighted = [{k: v for k, v in m.items() if k != "weight"} for m in CONVERSATION]
    ids, mask = tokenize_chat(tokenizer, unweighted)
    assert (
        masked(tokenizer, ids, mask)
        == "It ships today.<|end|>Within 5 days.\nPromised.<|end|>You are welcome.<|end|>"
    )


def test_templates_without_generation_blocks_get_the_same_mask(
    tokenizer: Any, plain_template_tokenizer: Any
) -> None:
    assert tokenize_chat(plain_template_tokenizer, CONVERSATION) == tokenize_chat(tokenizer, CONVERSATION)


def test_unusable_templates_fail_clearly(plain_template_tokenizer: Any) -> None:
    plain_template_tokenizer.chat_template = (
        "{{ messages|length }}{% for m in messages %}{{ m.content }}{% endfor %}"
    )
    with pytest.raises(ChatTemplateError, match="cannot be located"):
        tokenize_chat(plain_template_tokenizer, CONVERSATION)
    plain_template_tokenizer.chat_template = None
    with pytest.raises(ChatTemplateError, match="no chat template"):
        tokenize_chat(plain_template_tokenizer, CONVERSATION)


def test_every_prepared_chat_row_masks_its_assistant_answer(tokenizer: Any) -> None:
    result = prepare(EXAMPLE, tokenizer)
    for row in result.train:
        answer = row["messages"][-1]["content"]
        assert masked(tokenizer, row["input_ids"], row["assistant_masks"]) == answer + "<|end|>"


def test_shipped_example_dataset_is_valid(tokenizer: Any) -> None:
    report = prepare(EXAMPLE, tokenizer).report
    assert report.ok and report.errors == [] and report.warnings == [], report
    assert report.format == "chat" and report.examples >= 40 and report.lines == report.examples
    # Auto split keeps every example of a small file for training.
    assert report.train_examples == report.examples and report.validation_examples == 0
    assert 0 < report.tokens.min <= report.tokens.p50 <= report.tokens.p95 <= report.tokens.max < 200
    rows = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    answers = [row["messages"][-1]["content"] for row in rows]
    questions = [row["messages"][1]["content"] for row in rows]
    assert len(set(answers)) == len(answers) and len(set(questions)) == len(questions)
    assert all(len(answer) < 200 for answer in answers)


def write_examples(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "many.jsonl"
    lines = [
        json.dumps(
            {"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": f"A{i}"}]}
        )
        for i in range(count)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def answers(rows: list[dict[str, Any]]) -> list[str]:
    return [row["messages"][-1]["content"] for row in rows]


def test_split_is_deterministic_by_seed(tmp_path: Path, tokenizer: Any) -> None:
    path = write_examples(tmp_path, 150)
    first, again, other = (prepare(path, tokenizer, seed=s) for s in (7, 7, 8))
    assert first.report.validation_examples == 15 and first.report.train_examples == 135  # auto: 10%
    assert answers(first.validation) == answers(again.validation)
    assert answers(first.validation) != answers(other.validation)
    # Both parts keep the file's order and together are the whole file.
    order = [f"A{i}" for i in range(150)]
    assert sorted(answers(first.train) + answers(first.validation), key=order.index) == order
    assert answers(first.validation) == sorted(answers(first.validation), key=order.index)


@pytest.mark.parametrize(
    ("count", "split", "held"), [(20, 0.2, 4), (20, 0.0, 0), (99, None, 0), (10, 0.01, 1)]
)
def test_split_sizes(tmp_path: Path, tokenizer: Any, count: int, split: float | None, held: int) -> None:
    report = prepare(write_examples(tmp_path, count), tokenizer, validation_split=split).report
    assert (report.train_examples, report.validation_examples) == (count - held, held)
