"""The wire types' bounds are the ones the OpenAPI document states."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from tuneway.gateway.wire_types import FLOAT32_MIN_NORMAL, Probability

PROBABILITY = TypeAdapter(Probability)


def test_a_probability_documents_the_float32_minimum_it_enforces() -> None:
    # Issue 12 §6: `exclusiveMinimum: 0` let schemathesis send top_p=5e-324 as valid, and meet a 400.
    assert PROBABILITY.json_schema() == {"type": "number", "minimum": FLOAT32_MIN_NORMAL, "maximum": 1}
    assert PROBABILITY.validate_python(FLOAT32_MIN_NORMAL) == FLOAT32_MIN_NORMAL
    assert PROBABILITY.validate_python(1) == 1


@pytest.mark.parametrize("value", [5e-324, 0, -0.5, 1.0000001, float("nan")])
def test_a_probability_outside_the_documented_range_is_refused(value: float) -> None:
    with pytest.raises(ValidationError):
        PROBABILITY.validate_python(value)
