"""Token-aware chunking with overlap: windows of the embedder's tokens, cut at paragraph or sentence ends."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from tokenizers import Tokenizer

from tuneway.retriever.markdown import Section

_SENTENCE_END = ".!?;:"


@dataclass(frozen=True)
class Chunk:
    """One piece of a document as stored and embedded: the heading path, then the body text."""

    index: int
    text: str
    tokens: int


def _breaks(text: str, offsets: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Token positions that start a paragraph, and positions that start a sentence or a line."""
    paragraphs: list[int] = []
    sentences: list[int] = []
    for i in range(1, len(offsets)):
        gap = text[offsets[i - 1][1] : offsets[i][0]]
        if "\n\n" in gap or gap.count("\n") >= 2:
            paragraphs.append(i)
            sentences.append(i)
        elif "\n" in gap or (gap and text[offsets[i - 1][1] - 1] in _SENTENCE_END):
            sentences.append(i)
    return paragraphs, sentences


def _last_in(points: list[int], low: int, high: int) -> int | None:
    """The largest point p with low < p <= high."""
    position = bisect_right(points, high) - 1
    return points[position] if position >= 0 and points[position] > low else None


def _first_in(points: list[int], low: int, high: int) -> int | None:
    """The smallest point p with low <= p < high."""
    position = bisect_left(points, low)
    return points[position] if position < len(points) and points[position] < high else None


def token_windows(
    count: int, paragraphs: list[int], sentences: list[int], size: int, overlap: int
) -> list[tuple[int, int]]:
    """[start, end) token windows of at most `size`, overlapping by about `overlap`, ending at breaks."""
    windows: list[tuple[int, int]] = []
    start = 0
    while start < count:
        end = min(start + size, count)
        if end < count:
            # A cut in the window's second half at a paragraph end, else a sentence end, else anywhere.
            half = start + size // 2
            end = _last_in(paragraphs, half, end) or _last_in(sentences, half, end) or end
        windows.append((start, end))
        if end >= count:
            break
        # The next window repeats the tail of this one, starting at a sentence if one is near.
        back = max(end - overlap, start + 1)
        start = _first_in(sentences, back, end) or back if overlap else end
    return windows


def chunk_sections(sections: Sequence[Section], tokenizer: Tokenizer, size: int, overlap: int) -> list[Chunk]:
    """Chunks of the sections in order; each carries its heading path so it stands on its own."""
    chunks: list[Chunk] = []
    for section in sections:
        body = section.text
        encoding = tokenizer.encode(body, add_special_tokens=False)
        if not encoding.ids:
            continue
        prefix = f"{section.heading}\n" if section.heading else ""
        prefix_tokens = len(tokenizer.encode(prefix, add_special_tokens=False).ids) if prefix else 0
        # The heading takes part of the budget, but never more than half of it.
        budget = max(size - prefix_tokens, size // 2)
        offsets = encoding.offsets
        paragraphs, sentences = _breaks(body, offsets)
        for start, end in token_windows(
            len(offsets), paragraphs, sentences, budget, min(overlap, budget // 2)
        ):
            piece = body[offsets[start][0] : offsets[end - 1][1]].strip()
            if piece:
                chunks.append(Chunk(len(chunks), prefix + piece, prefix_tokens + end - start))
    return chunks
