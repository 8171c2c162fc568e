"""Unstructured text and markdown: paragraphs (headings kept with their section) packed into chunks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuneway.trainer.datasets.report import IssueLog

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

TEXT = "text"
_HEADING = re.compile(r"^#{1,6}\s")
_FENCE = re.compile(r"^\s*(```|~~~)")
SEPARATOR = "\n\n"


@dataclass
class Block:
    """A paragraph (or a heading with what follows it) and the file line it starts on."""

    line: int
    text: str


@dataclass
class Chunk:
    """One language-modelling example: token ids and the line its first block starts on."""

    line: int
    input_ids: list[int]


def read_blocks(text: str, *, markdown: bool) -> list[Block]:
    """Splits at blank lines (and, in markdown, before headings), never inside a code fence."""
    blocks: list[Block] = []
    current: list[str] = []
    start = 0
    in_fence = False

    def flush() -> None:
        if current:
            blocks.append(Block(line=start, text="\n".join(current)))
            current.clear()

    for number, line in enumerate(text.split("\n"), start=1):
        if markdown and _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and not line.strip():
            flush()
            continue
        elif not in_fence and markdown and _HEADING.match(line):
            flush()
        if not current:
            start = number
        current.append(line)
    flush()
    return _attach_headings(blocks) if markdown else blocks


def _attach_headings(blocks: list[Block]) -> list[Block]:
    """Joins each heading-only block to the block after it, so a chunk never ends on a bare heading."""
    joined: list[Block] = []
    for block in reversed(blocks):
        bare_heading = _HEADING.match(block.text) is not None and "\n" not in block.text
        if bare_heading and joined:
            following = joined.pop()
            joined.append(Block(line=block.line, text=block.text + SEPARATOR + following.text))
        else:
            joined.append(block)
    return list(reversed(joined))


def encode_text(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """The text's tokens with the model's own special tokens, ending with the end-of-sequence token."""
    ids = list(tokenizer(text, add_special_tokens=True)["input_ids"])
    eos = tokenizer.eos_token_id
    if isinstance(eos, int) and (not ids or ids[-1] != eos):
        ids.append(eos)  # so the model learns where a passage ends, as TRL does for text data
    return ids


def pack_chunks(
    tokenizer: PreTrainedTokenizerBase, blocks: list[Block], max_tokens: int, log: IssueLog
) -> list[Chunk]:
    """Greedily packs consecutive blocks (joined by a blank line) into chunks of at most max_tokens."""
    chunks: list[Chunk] = []
    group: list[Block] = []
    group_ids: list[int] = []
    for block in blocks:
        if group:
            candidate = encode_text(tokenizer, SEPARATOR.join(b.text for b in [*group, block]))
            if len(candidate) <= max_tokens:
                group.append(block)
                group_ids = candidate
                continue
            chunks.append(Chunk(line=group[0].line, input_ids=group_ids))
            group, group_ids = [], []
        ids = encode_text(tokenizer, block.text)
        if len(ids) <= max_tokens:
            group, group_ids = [block], ids
            continue
        pieces = _split_long_block(tokenizer, block, max_tokens)
        log.warning(
            block.line,
            "paragraph_split",
            f"paragraph is {len(ids)} tokens long; split into {len(pieces)} chunks of at most "
            f"{max_tokens} tokens (max_seq_length)",
        )
        chunks.extend(pieces)
    if group:
        chunks.append(Chunk(line=group[0].line, input_ids=group_ids))
    return chunks


def _split_long_block(tokenizer: PreTrainedTokenizerBase, block: Block, max_tokens: int) -> list[Chunk]:
    """Cuts a block longer than a chunk at line ends, and a line longer than a chunk into token windows."""
    chunks: list[Chunk] = []
    group: list[str] = []
    group_ids: list[int] = []
    for line in block.text.split("\n"):
        if group:
            candidate = encode_text(tokenizer, "\n".join([*group, line]))
            if len(candidate) <= max_tokens:
                group.append(line)
                group_ids = candidate
                continue
            chunks.append(Chunk(line=block.line, input_ids=group_ids))
            group, group_ids = [], []
        ids = encode_text(tokenizer, line)
        if len(ids) <= max_tokens:
            group, group_ids = [line], ids
        else:
            chunks.extend(
                Chunk(line=block.line, input_ids=ids[i : i + max_tokens])
                for i in range(0, len(ids), max_tokens)
            )
    if group:
        chunks.append(Chunk(line=block.line, input_ids=group_ids))
    return chunks
