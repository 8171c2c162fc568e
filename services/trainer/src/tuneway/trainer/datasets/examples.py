"""Records and text blocks to cleaned, de-duplicated, tokenized training examples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneway.trainer.datasets.chat_tokens import tokenize_chat
from tuneway.trainer.datasets.cleaning import normalise_text, scrub_pii
from tuneway.trainer.datasets.records import ReadResult
from tuneway.trainer.datasets.report import IssueLog, ValidationReport
from tuneway.trainer.datasets.text import Block, pack_chunks

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

MIN_EXAMPLES = 10  # OpenAI's minimum for a training file


@dataclass
class Example:
    """A training example as TRL takes it, with the line it came from."""

    line: int
    input_ids: list[int]
    assistant_masks: list[int]
    messages: list[dict[str, Any]] | None

    def as_dict(self) -> dict[str, Any]:
        """The row handed to the trainer."""
        return {
            "input_ids": self.input_ids,
            "assistant_masks": self.assistant_masks,
            "messages": self.messages,
        }


def _clean(text: str, scrub: bool, report: ValidationReport) -> str:
    """Normalises the text and, when asked, scrubs PII, counting the redactions in the report."""
    text = normalise_text(text)
    if scrub:
        text, redactions = scrub_pii(text)
        report.pii_redactions += redactions
    return text


def chat_examples(
    read: ReadResult,
    tokenizer: PreTrainedTokenizerBase,
    *,
    scrub: bool,
    max_tokens: int,
    min_examples: int,
    report: ValidationReport,
    log: IssueLog,
) -> list[Example]:
    """Cleans, de-duplicates, tokenizes and truncates the reader's records."""
    examples: list[Example] = []
    first_seen: dict[str, int] = {}
    for record in read.records:
        empty = False
        for message, source in zip(record.messages, record.sources, strict=True):
            message["content"] = _clean(message["content"], scrub, report)
            if not message["content"]:
                log.error(record.line, "missing_content", f"{source} is empty")
                empty = True
        if empty:
            continue
        # Duplicates are judged after cleaning: examples differing only in spacing train the same.
        key = json.dumps(record.messages, sort_keys=True, ensure_ascii=False)
        if key in first_seen:
            report.duplicates_removed += 1
            log.warning(
                record.line, "duplicate", f"duplicate of the example on line {first_seen[key]}; removed"
            )
            continue
        first_seen[key] = record.line
        ids, mask = tokenize_chat(tokenizer, record.messages)
        if len(ids) > max_tokens:
            length = len(ids)
            ids, mask = ids[:max_tokens], mask[:max_tokens]
            if not any(mask):
                log.error(
                    record.line,
                    "too_long",
                    f"example is {length} tokens long and none of its trained tokens fall within "
                    f"max_seq_length ({max_tokens} tokens)",
                )
                continue
            report.truncated += 1
            log.warning(
                record.line,
                "truncated",
                f"example is {length} tokens long; truncated to {max_tokens} tokens (max_seq_length), "
                "the rest is not trained",
            )
        examples.append(Example(record.line, ids, mask, record.messages))
    distinct = read.seen - report.duplicates_removed
    if read.seen == 0 and not log.has_errors:
        log.error(0, "empty_file", "the file contains no examples")
    elif 0 < distinct < min_examples:
        log.error(
            0, "too_few_examples", f"the file has {distinct} examples; at least {min_examples} are required"
        )
    return examples


def text_examples(
    blocks: list[Block],
    tokenizer: PreTrainedTokenizerBase,
    *,
    scrub: bool,
    max_tokens: int,
    report: ValidationReport,
    log: IssueLog,
) -> list[Example]:
    """Cleans and de-duplicates paragraphs, then packs them into fully trained chunks."""
    kept: list[Block] = []
    first_seen: dict[str, int] = {}
    for block in blocks:
        text = _clean(block.text, scrub, report)
        if not text:
            continue
        if text in first_seen:
            report.duplicates_removed += 1
            log.warning(
                block.line, "duplicate", f"duplicate of the paragraph on line {first_seen[text]}; removed"
            )
            continue
        first_seen[text] = block.line
        kept.append(Block(line=block.line, text=text))
    chunks = pack_chunks(tokenizer, kept, max_tokens, log)
    if not chunks:
        log.error(0, "empty_file", "the file contains no text")
    return [Example(c.line, c.input_ids, [1] * len(c.input_ids), None) for c in chunks]
