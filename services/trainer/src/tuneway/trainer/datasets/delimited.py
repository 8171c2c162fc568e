"""CSV/TSV reader: a header row naming a question and an answer column, then one example per row."""

from __future__ import annotations

import csv
import io

from tuneway.trainer.datasets.records import ReadResult, Record
from tuneway.trainer.datasets.report import IssueLog

DELIMITED = "delimited"
# Header names (case-insensitive) each column may go by; the first match wins.
QUESTION_NAMES = ("question", "prompt", "q", "input")
ANSWER_NAMES = ("answer", "completion", "a", "output")
SYSTEM_NAMES = ("system",)


def read_delimited(text: str, delimiter: str, log: IssueLog) -> ReadResult:
    """Each row becomes [system,] user (question) and assistant (answer) messages."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    records: list[Record] = []
    seen = 0
    columns: dict[str, int] = {}
    while True:
        start = reader.line_num + 1  # a row starts after the last line the reader consumed
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # csv cannot resynchronise after a broken row, so the rest of the file is not examined.
            log.error(start, "invalid_csv", f"unreadable row ({exc}); later rows were not checked")
            break
        if not any(field.strip() for field in row):
            continue
        if header is None:
            header, header_line = row, start
            found = _columns(header, start, log)
            if found is None:
                return ReadResult(format=DELIMITED, records=[], seen=0)
            columns = found
            continue
        seen += 1
        records.append(_record(row, start, header, columns))
    if header is not None and not records:
        log.error(header_line, "empty_file", "the file has a header but no rows")
    return ReadResult(format=DELIMITED, records=records, seen=seen)


def _columns(header: list[str], line: int, log: IssueLog) -> dict[str, int] | None:
    """Column indexes of question, answer and (optionally) system, or None after logging what is missing."""
    names = [h.strip().lower() for h in header]
    columns: dict[str, int] = {}
    for role, aliases in (("question", QUESTION_NAMES), ("answer", ANSWER_NAMES), ("system", SYSTEM_NAMES)):
        for alias in aliases:
            if alias in names:
                columns[role] = names.index(alias)
                break
    missing = [role for role in ("question", "answer") if role not in columns]
    for role in missing:
        aliases = QUESTION_NAMES if role == "question" else ANSWER_NAMES
        found = ", ".join(repr(h.strip()) for h in header)
        log.error(
            line,
            "missing_column",
            f"the header has no {role} column (name it one of {', '.join(aliases)}); found {found}",
        )
    return None if missing else columns


def _record(row: list[str], line: int, header: list[str], columns: dict[str, int]) -> Record:
    """One row's messages; a short row reads its missing fields as empty (reported after cleaning)."""

    def field(role: str) -> str:
        index = columns[role]
        return row[index] if index < len(row) else ""

    def source(role: str) -> str:
        return f"column '{header[columns[role]].strip()}'"

    messages, sources = [], []
    if "system" in columns and field("system").strip():
        messages.append({"role": "system", "content": field("system")})
        sources.append(source("system"))
    messages.append({"role": "user", "content": field("question")})
    sources.append(source("question"))
    messages.append({"role": "assistant", "content": field("answer")})
    sources.append(source("answer"))
    return Record(line=line, messages=messages, sources=sources)
