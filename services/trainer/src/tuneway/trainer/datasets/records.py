"""What the readers produce: examples as chat messages with their file line, before cleaning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant")


@dataclass
class Record:
    """One example: its 1-based start line and its messages ({"role", "content"[, "weight"]})."""

    line: int
    messages: list[dict[str, Any]]
    # How each message is named in error messages: "message 2", "'completion'", "column 'answer'".
    sources: list[str] = field(default_factory=list)


@dataclass
class ReadResult:
    """A reader's output: the format name, the valid records and how many examples the file holds."""

    format: str
    records: list[Record]
    # Non-blank lines or rows, valid or not: too_few_examples counts these, so a file with
    # a few broken lines is not also told it is too small.
    seen: int


def count_lines(text: str) -> int:
    """Physical lines, counting a last line without a newline."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)
