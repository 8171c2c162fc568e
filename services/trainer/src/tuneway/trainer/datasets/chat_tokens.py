"""Chat examples to token ids and an assistant mask, exactly as the model's chat template renders them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

# transformers computes `assistant_masks` from `{% generation %}` blocks; without them it returns zeros.
_GENERATION_BLOCK = re.compile(r"\{%-?\s*generation\s*-?%\}")


class ChatTemplateError(ValueError):
    """The tokenizer's chat template cannot be used to find the assistant tokens."""


def tokenize_chat(
    tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, Any]]
) -> tuple[list[int], list[int]]:
    """Token ids of the rendered conversation and a mask with 1 on trained assistant tokens."""
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    weights = [m.get("weight", 1) for m in messages if m["role"] == "assistant"]
    if _has_generation_blocks(tokenizer):
        encoded = tokenizer.apply_chat_template(
            plain, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        # With return_dict=True the result is a BatchEncoding; the union return type does not say so.
        assert not isinstance(encoded, str | list)
        ids, mask = list(encoded["input_ids"]), list(encoded["assistant_masks"])
        runs = _runs(mask)
        if len(runs) == len(weights):
            # One generation block per assistant message, in order: zero the ones weighted 0.
            for (start, end), weight in zip(runs, weights, strict=True):
                if weight == 0:
                    mask[start:end] = [0] * (end - start)
            return ids, mask
    # No generation blocks (most hub templates), or blocks that do not map one-to-one onto assistant
    # messages: find each assistant turn as the text the template adds for it.
    return _tokenize_by_prefix(tokenizer, plain, weights)


def _has_generation_blocks(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the (single, string) chat template marks assistant turns for transformers."""
    template = tokenizer.chat_template
    if template is None:
        raise ChatTemplateError(
            "the base model's tokenizer has no chat template, so chat data cannot be rendered"
        )
    return isinstance(template, str) and bool(_GENERATION_BLOCK.search(template))


def _runs(mask: list[int]) -> list[tuple[int, int]]:
    """[start, end) ranges of consecutive 1s."""
    runs: list[tuple[int, int]] = []
    start = -1
    for index, value in enumerate([*mask, 0]):
        if value and start < 0:
            start = index
        elif not value and start >= 0:
            runs.append((start, index))
            start = -1
    return runs


def _render(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], *, prompt: bool) -> str:
    """The template's text for `messages` (with the assistant's opening when `prompt`)."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)
    assert isinstance(text, str)
    return text


def _tokenize_by_prefix(
    tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], weights: list[int]
) -> tuple[list[int], list[int]]:
    """Masks, for each weighted assistant message, the characters its turn adds to the rendered text."""
    if not tokenizer.is_fast:
        raise ChatTemplateError(
            "the base model's chat template has no {% generation %} blocks and its tokenizer is not a fast "
            "tokenizer, so assistant tokens cannot be located"
        )
    full = _render(tokenizer, messages, prompt=False)
    spans: list[tuple[int, int]] = []
    assistant = 0
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:index], prompt=True)
        through = _render(tokenizer, messages[: index + 1], prompt=False)
        if not (through.startswith(before) and full.startswith(through)):
            raise ChatTemplateError(
                "the base model's chat template renders earlier turns differently once later turns "
                "follow, and has no {% generation %} blocks, so assistant tokens cannot be located"
            )
        if weights[assistant]:
            # Whitespace after the end token is template layout the model never generates.
            spans.append((len(before), len(through.rstrip())))
        assistant += 1
    # Templates carry their own special tokens (BOS), so the tokenizer must not add them again.
    encoded = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])
    mask = [int(any(s <= start < e for s, e in spans)) for start, _ in encoded["offset_mapping"]]
    return ids, mask
