"""The validation report: issues, token statistics and counts, mirroring trainer.proto's messages."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Beyond this many entries a report stops listing issues and says how many it left out: a broken
# 100k-line file would otherwise produce a report larger than the file.
MAX_LISTED = 100


@dataclass(frozen=True)
class Issue:
    """One problem: 1-based file line (0 = the whole file), a stable code and a readable message."""

    line: int
    code: str
    message: str


@dataclass(frozen=True)
class TokenStats:
    """Token counts per example as training sees them (after the chat template and truncation)."""

    total: int = 0
    min: int = 0
    max: int = 0
    mean: float = 0.0
    p50: int = 0
    p95: int = 0


@dataclass
class ValidationReport:
    """What cleaning and validation found; `ok` is False exactly when `errors` is non-empty."""

    format: str = ""
    ok: bool = False
    lines: int = 0
    examples: int = 0
    train_examples: int = 0
    validation_examples: int = 0
    duplicates_removed: int = 0
    pii_redactions: int = 0
    truncated: int = 0
    tokens: TokenStats = field(default_factory=TokenStats)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    estimated_steps: int = 0  # filled by the trainer service, which knows the hyperparameters
    max_seq_length: int = 0
    base_model: str = ""  # filled by the trainer service, which knows the model's name


class IssueLog:
    """Collects errors and warnings for a whole file, listing at most MAX_LISTED of each."""

    def __init__(self) -> None:
        self._errors: list[Issue] = []
        self._warnings: list[Issue] = []
        self._unlisted_errors = 0
        self._unlisted_warnings = 0

    def error(self, line: int, code: str, text: str) -> None:
        """Records a problem that stops training."""
        if len(self._errors) < MAX_LISTED:
            self._errors.append(_issue(line, code, text))
        else:
            self._unlisted_errors += 1

    def warning(self, line: int, code: str, text: str) -> None:
        """Records a problem training survives."""
        if len(self._warnings) < MAX_LISTED:
            self._warnings.append(_issue(line, code, text))
        else:
            self._unlisted_warnings += 1

    @property
    def has_errors(self) -> bool:
        """Whether any error was recorded, listed or not."""
        return bool(self._errors)

    def errors(self) -> list[Issue]:
        """The listed errors, plus a note counting the unlisted ones."""
        return _with_note(self._errors, self._unlisted_errors, "too_many_errors", "errors")

    def warnings(self) -> list[Issue]:
        """The listed warnings, plus a note counting the unlisted ones."""
        return _with_note(self._warnings, self._unlisted_warnings, "too_many_warnings", "warnings")


def _issue(line: int, code: str, text: str) -> Issue:
    """Prefixes the message with its line, as OpenAI's validation messages read."""
    return Issue(line=line, code=code, message=f"line {line}: {text}" if line > 0 else text)


def _with_note(issues: list[Issue], unlisted: int, code: str, noun: str) -> list[Issue]:
    """In file order (whole-file issues last), plus "N more ... not listed" when the cap was reached."""
    # Problems are found in passes (parsing, then cleaning, then tokenizing); users read by line.
    ordered = sorted(issues, key=lambda issue: (issue.line == 0, issue.line))
    if not unlisted:
        return ordered
    note = Issue(line=0, code=code, message=f"{unlisted} more {noun} not listed (first {MAX_LISTED} shown)")
    return [*ordered, note]


def token_stats(lengths: list[int]) -> TokenStats:
    """Total, min, max, mean and nearest-rank p50/p95 of per-example token counts."""
    if not lengths:
        return TokenStats()
    ordered = sorted(lengths)

    def rank(p: float) -> int:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    total = sum(ordered)
    return TokenStats(
        total=total,
        min=ordered[0],
        max=ordered[-1],
        mean=total / len(ordered),
        p50=rank(0.50),
        p95=rank(0.95),
    )
