"""Choices a training run makes from settings: gradient checkpointing by model size."""

from __future__ import annotations

from tuneway.trainer.worker.training import CHECKPOINTING_FROM_PARAMETERS, use_gradient_checkpointing


def test_auto_checkpointing_only_for_large_base_models() -> None:
    # The demo model has about 4 M parameters: recomputing its activations would only cost time.
    assert not use_gradient_checkpointing("auto", 4_000_000)
    assert use_gradient_checkpointing("auto", CHECKPOINTING_FROM_PARAMETERS)
    assert use_gradient_checkpointing("auto", 7_000_000_000)


def test_explicit_setting_wins_over_size() -> None:
    assert use_gradient_checkpointing("on", 4_000_000)
    assert not use_gradient_checkpointing("off", 7_000_000_000)
