"""BoundedLabel keeps a label's distinct values under its limit."""

from tuneway.core.metrics import BoundedLabel


def test_values_past_the_limit_become_other_and_known_ones_stay() -> None:
    label = BoundedLabel(limit=2)
    assert label("web") == "web"
    assert label("") == "none"
    assert label("email") == "other"
    assert label("web") == "web"
    assert label("none") == "none"
