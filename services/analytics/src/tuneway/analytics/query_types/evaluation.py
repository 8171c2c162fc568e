"""Accuracy of the classifier on the held-out labelled set (labelled_queries.jsonl)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    query_type: str


@dataclass(frozen=True)
class TypeScore:
    query_type: str
    precision: float
    recall: float
    support: int  # labelled queries of this type


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    per_type: tuple[TypeScore, ...]
    confusion: dict[tuple[str, str], int]  # (expected, predicted) -> count


def load_labelled_queries() -> tuple[LabelledQuery, ...]:
    """The held-out set: utterances not among the examples, each with the type it should get."""
    text = resources.files(__package__).joinpath("labelled_queries.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return tuple(LabelledQuery(row["text"], row["query_type"]) for row in rows)


def evaluate(expected: Sequence[str], predicted: Sequence[str]) -> Evaluation:
    """Accuracy, per-type precision and recall (0 when undefined) and the confusion counts."""
    confusion = Counter(zip(expected, predicted, strict=True))
    types = sorted(set(expected) | set(predicted))
    scores = []
    for name in types:
        hits = confusion[(name, name)]
        predicted_as = sum(count for (_, got), count in confusion.items() if got == name)
        support = sum(count for (want, _), count in confusion.items() if want == name)
        scores.append(
            TypeScore(
                name,
                hits / predicted_as if predicted_as else 0.0,
                hits / support if support else 0.0,
                support,
            )
        )
    correct = sum(count for (want, got), count in confusion.items() if want == got)
    return Evaluation(correct / len(expected) if expected else 0.0, tuple(scores), dict(confusion))
