"""The default taxonomy, its data files, tenants' types and their validation (no embedder needed)."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

import pytest

from tuneway.analytics.query_types import (
    DEFAULT_QUERY_TYPES,
    DEFAULT_THRESHOLD,
    HUMAN,
    OTHER,
    QueryTypeDefinition,
    effective_types,
    validate_query_type,
)
from tuneway.analytics.query_types.evaluation import evaluate, load_labelled_queries
from tuneway.analytics.settings import AnalyticsSettings
from tuneway.core.errors import InvalidArgumentError

EXPECTED_TYPES = [
    "billing",
    "refunds and returns",
    "shipping and delivery",
    "account and login",
    "technical problem",
    "product question",
    "complaint",
    "asks for a human",
    "greeting",
]


def test_the_default_taxonomy() -> None:
    assert [d.name for d in DEFAULT_QUERY_TYPES] == EXPECTED_TYPES
    assert HUMAN in EXPECTED_TYPES and OTHER not in EXPECTED_TYPES
    for definition in DEFAULT_QUERY_TYPES:
        assert definition.builtin
        assert 12 <= len(definition.examples) <= 20, definition.name
        assert len(set(definition.examples)) == len(definition.examples)
        validate_query_type(definition.name, definition.examples)


def test_the_labelled_set_is_held_out_and_covers_every_type() -> None:
    labelled = load_labelled_queries()
    assert len(labelled) >= 150
    examples = {e.lower() for d in DEFAULT_QUERY_TYPES for e in d.examples}
    assert not [q.text for q in labelled if q.text.lower() in examples]
    counts = Counter(q.query_type for q in labelled)
    assert set(counts) == {*EXPECTED_TYPES, OTHER} and min(counts.values()) >= 10
    raw = resources.files("tuneway.analytics.query_types").joinpath("labelled_queries.jsonl").read_text()
    assert all(set(json.loads(line)) == {"query_type", "text"} for line in raw.splitlines())


def test_effective_types_replace_defaults_by_name_and_add_new_ones() -> None:
    billing = QueryTypeDefinition("billing", ("Where is my Stripe receipt?",))
    loyalty = QueryTypeDefinition("loyalty points", ("How many points do I have?",))
    merged = effective_types([loyalty, billing])
    assert [d.name for d in merged] == [*EXPECTED_TYPES, "loyalty points"]
    assert merged[0] is billing and not merged[0].builtin
    assert merged[1:9] == DEFAULT_QUERY_TYPES[1:]
    assert effective_types([]) == DEFAULT_QUERY_TYPES


@pytest.mark.parametrize(
    ("name", "examples", "param"),
    [
        ("", ["hi"], "name"),
        ("x" * 65, ["hi"], "name"),
        ("Billing", ["hi"], "name"),
        ("billing!", ["hi"], "name"),
        (" billing", ["hi"], "name"),
        ("two  spaces", ["hi"], "name"),
        ("other", ["hi"], "name"),
        ("billing", [], "examples"),
        ("billing", ["hi"] * 101, "examples"),
        ("billing", ["ok", "   "], "examples"),
        ("billing", ["x" * 501], "examples"),
    ],
)
def test_validation_names_the_field(name: str, examples: list[str], param: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        validate_query_type(name, examples)
    assert error.value.param == param


def test_valid_names() -> None:
    validate_query_type("loyalty-points_2 and more", ["a"] * 100)
    validate_query_type("x" * 64, ["y" * 500])


def test_evaluation_counts() -> None:
    evaluation = evaluate(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert evaluation.accuracy == 0.75
    scores = {s.query_type: s for s in evaluation.per_type}
    assert (scores["a"].precision, scores["a"].recall) == (1.0, 0.5)
    assert (scores["b"].precision, scores["b"].recall) == (pytest.approx(2 / 3), 1.0)
    assert evaluation.confusion[("a", "b")] == 1


def test_the_service_setting_defaults_to_the_calibrated_threshold() -> None:
    assert AnalyticsSettings.model_fields["classification_threshold"].default == DEFAULT_THRESHOLD
