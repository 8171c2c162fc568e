"""Sampling fields the chat and the legacy completions bodies share, with OpenAI's names and limits."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from tuneway.gateway.wire_types import INT32_MAX

# OpenAI's bounds on n; the inference service caps it lower (INFERENCE_MAX_N) with a 400 naming `n`.
Choices = Annotated[int, Field(ge=1, le=128)]
# OpenAI's limit on chat's top_logprobs.
TopLogprobs = Annotated[int, Field(ge=0, le=20)]
MAX_BIASED_TOKENS = 300


def _token_biases(value: dict[str, Any]) -> dict[str, Any]:
    # Checked whole, so that every fault names `logit_bias` itself, as OpenAI's errors do.
    if len(value) > MAX_BIASED_TOKENS:
        raise ValueError(f"at most {MAX_BIASED_TOKENS} tokens may be biased")
    for key, bias in value.items():
        if not key.isascii() or not key.isdigit() or int(key) > INT32_MAX:
            raise ValueError(f"keys must be token ids (non-negative integers as strings), not {key!r}")
        if isinstance(bias, bool) or not isinstance(bias, (int, float)) or not -100 <= bias <= 100:
            raise ValueError(f"the bias of token {key} must be a number from -100 to 100")
    return value


# Token id (as a string, JSON's only key type) -> bias from -100 (never) to 100 (always); the inference
# service refuses ids beyond the model's vocabulary (400 naming `logit_bias`).
LogitBias = Annotated[dict[str, Any], AfterValidator(_token_biases)]


def logit_bias_map(value: dict[str, Any] | None) -> dict[int, float]:
    """The bias of each token id, as the inference request carries it."""
    return {int(key): float(bias) for key, bias in (value or {}).items()}
