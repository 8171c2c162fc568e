"""prepare_dataset: read, clean, validate, tokenize and split one uploaded training file."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from tuneway.trainer.datasets.delimited import read_delimited
from tuneway.trainer.datasets.examples import MIN_EXAMPLES, Example, chat_examples, text_examples
from tuneway.trainer.datasets.jsonl import read_jsonl
from tuneway.trainer.datasets.records import count_lines
from tuneway.trainer.datasets.report import IssueLog, ValidationReport, token_stats
from tuneway.trainer.datasets.text import TEXT, read_blocks

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

# Extension → reader. JSONL files decide chat vs prompt/completion by their first object.
_READERS = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".csv": ",",
    ".tsv": "\t",
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
}
# With an automatic split, small files keep every example for training: a few held-out examples
# measure little and cost a noticeable share of what the model can learn.
AUTO_SPLIT_MIN_EXAMPLES = 100
AUTO_SPLIT = 0.1
# Byte-order marks of the encodings editors offer besides UTF-8 (UTF-32 first: its LE mark starts
# with UTF-16's).
_FOREIGN_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
# Old Mac (CR) and Windows (CRLF) line ends read as one line end each, so every reader counts lines alike.
_LINE_END = re.compile(r"\r\n?")


@dataclass(frozen=True)
class PrepareOptions:
    """How a file is cleaned, cut and split."""

    scrub_pii: bool = False
    # Share held out for validation; None: AUTO_SPLIT from AUTO_SPLIT_MIN_EXAMPLES examples on, else 0.
    validation_split: float | None = None
    max_seq_length: int = 1024
    seed: int = 0
    # Structured files with fewer examples fail with too_few_examples; a validation file may need fewer.
    min_examples: int = MIN_EXAMPLES

    def __post_init__(self) -> None:
        if self.validation_split is not None and not 0.0 <= self.validation_split < 1.0:
            raise ValueError(f"validation_split must be at least 0 and below 1, got {self.validation_split}")
        if self.max_seq_length < 8:
            raise ValueError(f"max_seq_length must be at least 8 tokens, got {self.max_seq_length}")


@dataclass
class PreparedDataset:
    """The report and, when it is ok, the tokenized train and validation rows for TRL."""

    report: ValidationReport
    train: list[dict[str, Any]] = field(default_factory=list)
    validation: list[dict[str, Any]] = field(default_factory=list)


def prepare_dataset(
    path: Path, *, filename: str, tokenizer: PreTrainedTokenizerBase, options: PrepareOptions
) -> PreparedDataset:
    """Reads `path` (named `filename` by its uploader), cleans and validates it, tokenizes and splits it."""
    log = IssueLog()
    report = ValidationReport(max_seq_length=options.max_seq_length)
    examples = _examples(Path(path), filename, tokenizer, options, report, log)
    report.errors, report.warnings = log.errors(), log.warnings()
    report.ok = not report.errors
    report.examples = len(examples)
    report.tokens = token_stats([len(e.input_ids) for e in examples])
    if not report.ok:
        return PreparedDataset(report=report)
    train, validation = split_examples(examples, options.validation_split, options.seed)
    report.train_examples, report.validation_examples = len(train), len(validation)
    return PreparedDataset(
        report=report, train=[e.as_dict() for e in train], validation=[e.as_dict() for e in validation]
    )


def _examples(
    path: Path,
    filename: str,
    tokenizer: PreTrainedTokenizerBase,
    options: PrepareOptions,
    report: ValidationReport,
    log: IssueLog,
) -> list[Example]:
    """Picks the reader by extension and builds the examples, logging every problem."""
    suffix = PurePath(filename).suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        log.error(
            0,
            "unsupported_format",
            f"unsupported file type {suffix or repr(filename)}; use .jsonl, .json, .csv, .tsv, .txt or .md",
        )
        return []
    text = _decode(path.read_bytes(), log)
    if text is None:
        return []
    report.lines = count_lines(text)
    common: dict[str, Any] = {
        "scrub": options.scrub_pii,
        "max_tokens": options.max_seq_length,
        "report": report,
        "log": log,
    }
    if reader in ("text", "markdown"):
        report.format = TEXT
        if not text.strip():
            log.error(0, "empty_file", "the file is empty")
            return []
        return text_examples(read_blocks(text, markdown=reader == "markdown"), tokenizer, **common)
    read = read_jsonl(text, log) if reader == "jsonl" else read_delimited(text, reader, log)
    report.format = read.format
    if not text.strip():
        log.error(0, "empty_file", "the file is empty")
        return []
    return chat_examples(read, tokenizer, min_examples=options.min_examples, **common)


def _decode(data: bytes, log: IssueLog) -> str | None:
    """UTF-8 text (a byte-order mark is dropped, line ends made LF), or None after naming the line with
    the bad bytes."""
    for bom, encoding in _FOREIGN_BOMS:
        if data.startswith(bom):
            log.error(1, "unsupported_format", f"the file is {encoding} text; save it as UTF-8")
            return None
    # UTF-16 without a mark, and binary files, decode as UTF-8 text full of NULs: no text has one.
    nul = data.find(b"\x00")
    if nul >= 0:
        log.error(
            data.count(b"\n", 0, nul) + 1,
            "unsupported_format",
            f"the file is not UTF-8 text (NUL byte at column {_column(data, nul)}; UTF-16 or a binary file?)",
        )
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        log.error(
            line,
            "unsupported_format",
            f"the file is not UTF-8 text (invalid byte at column {_column(data, exc.start)})",
        )
        return None
    return _LINE_END.sub("\n", text)


def _column(data: bytes, offset: int) -> int:
    """1-based byte column of `offset` within its line."""
    return offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def split_examples(
    examples: list[Example], validation_split: float | None, seed: int
) -> tuple[list[Example], list[Example]]:
    """Holds out a seeded random share for validation; both parts keep the file's order."""
    count = len(examples)
    share = validation_split
    if share is None:
        share = AUTO_SPLIT if count >= AUTO_SPLIT_MIN_EXAMPLES else 0.0
    held = round(count * share)
    if share > 0 and held == 0 and count >= 2:
        held = 1  # a requested split is never silently empty
    held = min(held, count - 1) if count else 0  # and never takes every example
    order = list(range(count))
    random.Random(seed).shuffle(order)
    chosen = set(order[:held])
    train = [e for i, e in enumerate(examples) if i not in chosen]
    validation = [e for i, e in enumerate(examples) if i in chosen]
    return train, validation
