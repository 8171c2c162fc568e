"""Log probabilities of tokens, from vLLM's per-position dicts (token id -> Logprob) to OpenAI's terms:
the token's text, its log probability, and the most likely tokens at its position."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# OpenAI clamps log probabilities of impossible tokens (-inf, which JSON cannot carry) to this.
FLOOR = -9999.0


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    # None for the prompt's first token: no position precedes it.
    logprob: float | None
    # The `k` most likely tokens at this position, most likely first: (text, log probability).
    top: tuple[tuple[str, float], ...] = ()


def _value(logprob: float) -> float:
    return logprob if math.isfinite(logprob) else FLOOR


def _text(token_id: int, entry: Any, tokenizer: Any) -> str:
    # vLLM decodes every token it returns a log probability for; decode ourselves if it did not.
    decoded = entry.decoded_token if entry is not None else None
    return decoded if decoded is not None else tokenizer.decode([token_id])


def token_logprob(token_id: int, position: Mapping[int, Any] | None, k: int, tokenizer: Any) -> TokenLogprob:
    """The token `token_id` at a position whose dict vLLM filled with it and the `k` most likely."""
    if position is None:  # the prompt's first token
        return TokenLogprob(_text(token_id, None, tokenizer), None)
    chosen = position.get(token_id)
    logprob = _value(chosen.logprob) if chosen is not None else FLOOR
    # The dict holds the sampled token at its own rank besides the top k: keep only ranks 1..k.
    ranked = sorted(
        (
            (entry.rank, tid, entry)
            for tid, entry in position.items()
            if entry.rank is not None and entry.rank <= k
        ),
        key=lambda item: item[0],
    )
    top = tuple((_text(tid, entry, tokenizer), _value(entry.logprob)) for _, tid, entry in ranked[:k])
    return TokenLogprob(_text(token_id, chosen, tokenizer), logprob, top)


def token_logprobs(
    token_ids: Sequence[int], positions: Sequence[Mapping[int, Any] | None] | None, k: int, tokenizer: Any
) -> list[TokenLogprob]:
    """One TokenLogprob per token of `token_ids`, from vLLM's positions (the same length)."""
    if positions is None:
        return []
    return [token_logprob(tid, positions[i], k, tokenizer) for i, tid in enumerate(token_ids)]
